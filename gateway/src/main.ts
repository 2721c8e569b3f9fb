import { loadGatewayConfig } from './config.js';
import { startGateway } from './server.js';

const gateway = await startGateway(loadGatewayConfig());
console.log(JSON.stringify({ level: 'info', service: 'gateway', msg: 'listening', url: gateway.url }));
let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  // In-flight requests finish and the access log is flushed; a shutdown that cannot finish must not hang.
  setTimeout(() => process.exit(1), 20_000).unref();
  gateway.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
