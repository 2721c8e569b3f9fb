import { loadGatewayConfig } from './config.js';
import { startGateway } from './server.js';

const gateway = await startGateway(loadGatewayConfig());
console.log(JSON.stringify({ level: 'info', service: 'gateway', msg: 'listening', url: gateway.url }));
let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  gateway.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
