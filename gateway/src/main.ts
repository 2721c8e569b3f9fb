import { errorDetails, limitHeapGrowth, serviceLogger } from '@ketengraph/service-kit';
import { loadGatewayConfig } from './config/index.js';
import { startGateway } from './server.js';

limitHeapGrowth();
const log = serviceLogger('gateway');
const config = loadGatewayConfig();
const gateway = await startGateway(config);
log.info({ url: gateway.url }, 'listening');
let closing = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (closing) return;
  closing = true;
  log.info({ signal }, 'shutting down: no new connections, finishing requests in flight, flushing the access log');
  // A shutdown that cannot finish must not hang: the HTTP layer cuts requests still running after
  // SHUTDOWN_GRACE_MS, and the rest (subscriptions, access log, traces) gets 10 s more.
  setTimeout(() => process.exit(1), config.shutdownGraceMs + 10_000).unref();
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
