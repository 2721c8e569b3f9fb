import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { loadAccessPolicy, readSchemaPolicies, startHttpService, type HttpService } from '@ketengraph/service-kit';
import { AuditLog, createAuditSchema } from './audit/index.js';
import { setUpAuthentication } from './auth/index.js';
import { authorizationPlugin } from './authorization/plugin.js';
import type { GatewayConfig } from './config.js';
import type { GatewayContext } from './context.js';
import { createFederation, readSupergraph, subgraphEndpoints } from './federation/gateway.js';

export interface RunningGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the gateway: authentication (refused before anything listens if misconfigured), HTTP layer, then the federation behind it. */
export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const auth = await setUpAuthentication(config);
  const supergraphSdl = readSupergraph(config);
  const audit = await AuditLog.open(config.audit);
  const gateway = createFederation(supergraphSdl, config, auth.subgraphTokens, { audit: createAuditSchema(audit) });
  const endpoints = subgraphEndpoints(config);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      authorizationPlugin({ policy: loadAccessPolicy(), policies: readSchemaPolicies(supergraphSdl), mode: config.authorizationMode, audit }),
    ],
  });
  try {
    await apollo.start();
  } catch (error) {
    await audit.close();
    throw error;
  }
  let http: HttpService;
  try {
    http = await startHttpService<GatewayContext>({
      apollo,
      port: config.port,
      host: config.host,
      maxBodyBytes: config.maxBodyBytes,
      context: async (request, requestId) => ({ requestId, principal: await auth.authenticate(request) }),
      routes: auth.route,
      readiness: async () => {
        const checks: Record<string, boolean> = { supergraph: true, auditLog: await audit.ready() };
        await Promise.all(
          endpoints.map(async ({ name, url }) => {
            const ready = new URL('/ready', url);
            checks[name] = await fetch(ready, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
          }),
        );
        return checks;
      },
      metrics: () => {
        const memory = process.memoryUsage();
        return [
          '# HELP process_resident_memory_bytes Resident memory of the gateway process.',
          '# TYPE process_resident_memory_bytes gauge',
          `process_resident_memory_bytes ${memory.rss}`,
          '# HELP nodejs_heap_used_bytes V8 heap in use.',
          '# TYPE nodejs_heap_used_bytes gauge',
          `nodejs_heap_used_bytes ${memory.heapUsed}`,
          '',
        ].join('\n');
      },
    });
  } catch (error) {
    await apollo.stop();
    await audit.close();
    throw error;
  }
  return {
    url: http.url,
    port: http.port,
    close: async () => {
      await http.close();
      await apollo.stop();
      await audit.close();
    },
  };
}
