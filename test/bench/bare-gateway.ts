/**
 * The baseline for the benchmark: a bare @apollo/gateway behind Apollo Server's standalone
 * server, with defaults, on the same supergraph and subgraphs as ketengraph's gateway.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const gateway = new ApolloGateway({ supergraphSdl: readFileSync(process.env.SUPERGRAPH_FILE!, 'utf8') });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { port: Number(process.env.PORT), host: '127.0.0.1' } });
console.log(JSON.stringify({ level: 'info', service: 'bare-gateway', url }));
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
