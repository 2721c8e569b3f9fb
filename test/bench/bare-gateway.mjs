/**
 * The baseline for the benchmark: a bare @apollo/gateway behind Apollo Server's standalone
 * server, with defaults, on the same supergraph and subgraphs as ketengraph's gateway. It only
 * passes the request's Authorization header on (the bench sends it a token the subgraphs
 * accept), so the comparison shows what ketengraph's authentication costs. Plain JavaScript, run
 * with node as ketengraph's compiled gateway is, so that neither pays for tsx.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(process.env.SUPERGRAPH_FILE, 'utf8'),
  buildService: ({ url }) => new ForwardingDataSource({ url }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT), host: '127.0.0.1' },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(JSON.stringify({ level: 'info', service: 'bare-gateway', url }));
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
