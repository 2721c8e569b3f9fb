import { errorDetails, serviceLogger } from '@ketengraph/service-kit';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './server.js';

const log = serviceLogger('gateway');
const gateway = await startGateway(loadGatewayConfig());
log.info({ url: gateway.url }, 'listening');
let closing = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (closing) return;
  closing = true;
  log.info({ signal }, 'shutting down: no new connections, finishing requests in flight, flushing the access log');
  // A shutdown that cannot finish must not hang (the HTTP layer cuts stuck connections after 5 s).
  setTimeout(() => process.exit(1), 20_000).unref();
  gateway.close().then(
    () => {
      log.info('stopped');
      process.exit(0);
    },
    (error: unknown) => {
      log.error(errorDetails(error), 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
