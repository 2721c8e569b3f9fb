/**
 * A peer for the benchmark: Hive Gateway (its runtime, as `hive-gateway supergraph` runs it) on the
 * same supergraph and subgraphs, with defaults; `HIVE_RUST_PLANNER=1` plans with its Rust query
 * planner (@graphql-hive/router-runtime). Like the bare @apollo/gateway it only passes the
 * request's Authorization header on: it cannot do ketengraph's authorization or audit. Plain
 * JavaScript, run with node as ketengraph's compiled gateway is, so that neither pays for tsx.
 */
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';

// Its subgraph calls share abort signals; Node warns past 10 listeners per signal, which is noise here.
setMaxListeners(0);
const gateway = createGatewayRuntime({
  supergraph: readFileSync(process.env.SUPERGRAPH_FILE, 'utf8'),
  ...(process.env.HIVE_RUST_PLANNER === '1' ? { unifiedGraphHandler } : {}),
  logging: 'error',
  landingPage: false,
  propagateHeaders: { fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') }) },
});
const server = createServer(gateway);
server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  console.log(JSON.stringify({ level: 'info', service: 'hive-gateway', rustPlanner: process.env.HIVE_RUST_PLANNER === '1', port: process.env.PORT })),
);
process.on('SIGTERM', () => {
  server.close();
  void Promise.resolve(gateway.dispose()).then(() => process.exit(0));
});
