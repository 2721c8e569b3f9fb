import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { loadAccessPolicy, readSchemaPolicies, startHttpService, type HttpService } from '@ketengraph/service-kit';
import { AuditLog, createAuditSchema } from './audit/index.js';
import { createAdmission } from './admission/admit.js';
import { setUpAuthentication } from './admission/authentication/index.js';
import { bsnPatientsAt, placementPatientsAt } from './authorization/identify.js';
import { authorizationPlugin } from './authorization/plugin.js';
import type { GatewayConfig } from './config/index.js';
import type { GatewayContext } from './admission/context.js';
import { createGatewayEvents, startHandoverRelay, type GatewayEvents, type HandoverRelay } from './events/index.js';
import { setUpSubscriptions, subscriptionsOverHttpPlugin, type GatewaySubscriptions } from './events/subscriptions/index.js';
import { createFederation, readSupergraph, subgraphEndpoints } from './federation/gateway.js';
import { parseInputScalars } from './federation/input-scalars.js';
import { createExplorer } from './explorer/index.js';
import { setUpHardening } from './edge/apollo.js';
import { Webhooks } from './events/webhooks/index.js';

export interface RunningGateway {
  url: string;
  port: number;
  /** Placement events (feed and per-principal resolution) for subscriptions and webhooks. */
  events: GatewayEvents;
  /** GraphQL subscriptions (WebSocket and SSE); `close()` ends them all for a restart. */
  subscriptions: GatewaySubscriptions;
  /** The access log (NEN 7513); read by the privacy officer's `auditTrail` and by tests. */
  audit: AuditLog;
  /** Records every transfer's handover in kwaliteit (HANDOVER_RELAY); null when turned off. */
  handoverRelay: HandoverRelay | null;
  close(): Promise<void>;
}

/** Starts the gateway: authentication (refused before anything listens if misconfigured), HTTP layer, then the federation behind it. */
export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const hardening = setUpHardening(config);
  const auth = await setUpAuthentication(config);
  // The one admission step every transport passes (HTTP, SSE, WebSocket, webhook selections).
  const admission = createAdmission({ authenticate: auth.authenticate, ...hardening.admission });
  const supergraphSdl = readSupergraph(config);
  const audit = await AuditLog.open(config.audit);
  const webhooks = await Webhooks.open(config.webhooks);
  const gateway = createFederation(
    supergraphSdl,
    config,
    auth.subgraphTokens,
    { audit: createAuditSchema(audit), webhooks: webhooks.schema },
    hardening.guards,
  );
  // Date and DateTime are parsed by the gateway as by the subgraphs, in every supergraph it loads.
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => parseInputScalars(apiSchema));
  const explorer = config.explorer.enabled ? createExplorer({ endpoint: '/graphql', devTokens: auth.devTokens }) : null;
  if (explorer) gateway.onSchemaLoadOrUpdate(({ apiSchema }) => explorer.setSchema(apiSchema));
  const endpoints = subgraphEndpoints(config);
  // Authorization follows supergraph reloads: the policies are read from whichever supergraph is served.
  let policies = readSchemaPolicies(supergraphSdl);
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => (policies = readSchemaPolicies(coreSupergraphSdl)));
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    // The process's own shutdown (main.ts) owns SIGTERM/SIGINT; Apollo's handler would stop the server
    // underneath it and re-raise the signal, which left shutdown waiting for the forced exit.
    stopOnTerminationSignals: false,
    ...hardening.apollo,
    plugins: [
      ...hardening.pluginsBefore,
      ApolloServerPluginLandingPageDisabled(),
      subscriptionsOverHttpPlugin(),
      authorizationPlugin({
        policy: loadAccessPolicy(),
        policies: () => policies,
        mode: config.authorizationMode,
        audit,
        placementPatients: placementPatientsAt(() => endpoints.find((e) => e.name === 'plaatsing')!.url, auth.subgraphTokens),
        bsnPatients: bsnPatientsAt(() => endpoints.find((e) => e.name === 'indicatiestelling')!.url, auth.subgraphTokens),
      }),
      ...hardening.pluginsAfter,
    ],
  });
  try {
    await apollo.start();
  } catch (error) {
    await webhooks.close();
    await audit.close();
    throw error;
  }
  const plaatsingUrl = endpoints.find((e) => e.name === 'plaatsing')!.url;
  const relationships = {
    policy: loadAccessPolicy(),
    policies: () => policies,
    sources: { 'own-patients': plaatsingUrl, 'own-supervisees': endpoints.find((e) => e.name === 'indicatiestelling')!.url },
  };
  const events = createGatewayEvents({
    config: config.events,
    apollo,
    apiSchema: () => gateway.schema!,
    plaatsingUrl,
    tokens: auth.subgraphTokens,
    relationships,
  });
  const subscriptions = setUpSubscriptions({ events, admission, apiSchema: () => gateway.schema!, maxBodyBytes: config.maxBodyBytes });
  webhooks.start({ ...events, apiSchema: () => gateway.schema, admission });
  let http: HttpService;
  try {
    http = await startHttpService<GatewayContext>({
      apollo,
      service: 'gateway',
      port: config.port,
      host: config.host,
      shutdownGraceMs: config.shutdownGraceMs,
      admit: admission.http,
      routes: async (request, response) =>
        (await subscriptions.route(request, response)) || (await explorer?.route(request, response)) || auth.route(request, response),
      readiness: async () => ({ supergraph: true, auditLog: await audit.ready(), webhooks: await webhooks.ready() }),
      // A subgraph that is down is shown, not made the gateway's readiness: it still serves the rest as partial data.
      dependencies: async () =>
        Object.fromEntries(await Promise.all(endpoints.map(async ({ name, url }) => [name, await hardening.subgraphReady(name, url)] as const))),
    });
  } catch (error) {
    await webhooks.close();
    await events.close();
    await apollo.stop();
    await audit.close();
    throw error;
  }
  subscriptions.attach(http.server);
  const handoverRelay = config.handoverRelay.enabled
    ? startHandoverRelay({
        plaatsingUrl,
        kwaliteitUrl: endpoints.find((e) => e.name === 'kwaliteit')!.url,
        forensischCvUrl: endpoints.find((e) => e.name === 'forensisch-cv')!.url,
        tokens: auth.subgraphTokens,
        config: config.handoverRelay,
        audit: (records) => audit.append(records),
      })
    : null;
  return {
    url: http.url,
    port: http.port,
    events,
    subscriptions,
    audit,
    handoverRelay,
    // Shutdown order: stop accepting and finish the requests in flight (their audit records are
    // queued before their responses leave), close subscriptions and the event feed, stop Apollo,
    // write what the access log still queues, flush traces.
    close: async () => {
      await subscriptions.close();
      await http.close();
      // Webhooks first: in-flight deliveries are released (redelivered later) while the feed and the access log still run.
      await webhooks.close();
      await handoverRelay?.close();
      await events.close();
      await apollo.stop();
      await audit.close();
      await hardening.close();
    },
  };
}
