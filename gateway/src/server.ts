import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createExplorer } from '@ketengraph/explorer';
import { loadAccessPolicy, readSchemaPolicies, startHttpService, startTracing, type HttpService } from '@ketengraph/service-kit';
import { createAdmission } from './admission/admit.js';
import { setUpAuthentication } from './admission/authentication/index.js';
import type { GatewayContext } from './admission/context.js';
import { AuditLog, createAuditSchema } from './audit/index.js';
import { bsnPatientsAt, placementPatientsAt } from './authorization/identify.js';
import { authorizationPlugin } from './authorization/plugin.js';
import type { GatewayConfig } from './config/index.js';
import { setUpRequestPipeline } from './edge/apollo.js';
import { createGatewayEvents, startHandoverRelay, type GatewayEvents, type HandoverRelay } from './events/index.js';
import { setUpSubscriptions, subscriptionsOverHttpPlugin, type GatewaySubscriptions } from './events/subscriptions/index.js';
import { Webhooks } from './events/webhooks/index.js';
import { CHAIN_FEATURE_SUBGRAPHS, featureEndpoints, type FeatureSubgraphs } from './federation/features.js';
import { createFederation, readSupergraph, subgraphEndpoints } from './federation/gateway.js';
import { parseInputScalars } from './federation/input-scalars.js';
import { startInOrder, type Component } from './lifecycle.js';

export interface RunningGateway {
  url: string;
  port: number;
  /** Placement events (feed and per-principal resolution) for subscriptions and webhooks; null when the supergraph has no event subgraph. */
  events: GatewayEvents | null;
  /** GraphQL subscriptions (WebSocket and SSE); `close()` ends them all for a restart. Null without events. */
  subscriptions: GatewaySubscriptions | null;
  /** The access log (NEN 7513); read by the privacy officer's `auditTrail` and by tests. */
  audit: AuditLog;
  /** Records every transfer's handover in kwaliteit (HANDOVER_RELAY); null when turned off or its subgraphs are absent. */
  handoverRelay: HandoverRelay | null;
  close(): Promise<void>;
}

/** What startGateway takes besides the configuration read from the environment. */
export interface GatewayOptions {
  /** Which subgraph answers each feature that needs one (default: ketengraph's chain); features whose subgraph is absent are off. */
  features?: FeatureSubgraphs;
}

/**
 * Starts the gateway: authentication (refused before anything listens if misconfigured), then its
 * components in one ordered list — stopped in reverse order on shutdown, and those already started
 * stopped again when a later one fails to start.
 */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const pipeline = setUpRequestPipeline(config);
  const auth = await setUpAuthentication(config);
  // The one admission step every transport passes (HTTP, SSE, WebSocket, webhook selections).
  const admission = createAdmission({ authenticate: auth.authenticate, ...pipeline.admission });
  const supergraphSdl = readSupergraph(config);
  const endpoints = subgraphEndpoints(config);
  const features = featureEndpoints(options.features ?? CHAIN_FEATURE_SUBGRAPHS, endpoints);
  // Authorization follows supergraph reloads: the policies are read from whichever supergraph is served.
  const { patientTypes } = loadAccessPolicy();
  let policies = readSchemaPolicies(supergraphSdl, patientTypes);

  let stopTracing: () => Promise<void> = async () => undefined;
  let audit!: AuditLog;
  let webhooks!: Webhooks;
  let apollo!: ApolloServer<GatewayContext>;
  let gateway!: ReturnType<typeof createFederation>;
  let events: GatewayEvents | null = null;
  let subscriptions: GatewaySubscriptions | null = null;
  let handoverRelay: HandoverRelay | null = null;
  let http!: HttpService;
  const explorer = config.explorer.enabled ? createExplorer({ endpoint: '/graphql', devTokens: auth.devTokens }) : null;

  // In start order; shutdown runs it backwards: stop accepting and finish the requests in flight
  // (their audit records are queued before their responses leave) after ending subscriptions, then
  // webhook deliveries (released for redelivery while the feed and the access log still run), the
  // relay, the feed, Apollo, the webhook database, what the access log still queues, traces.
  const components: Component[] = [
    { name: 'tracing', start: async () => void (stopTracing = await startTracing(config.tracing)), stop: () => stopTracing() },
    { name: 'audit log', start: async () => void (audit = await AuditLog.open(config.audit)), stop: () => audit.close() },
    { name: 'webhook store', start: async () => void (webhooks = await Webhooks.open(config.webhooks)), stop: () => webhooks.close() },
    {
      name: 'apollo',
      start: async () => {
        gateway = createFederation(supergraphSdl, config, auth.subgraphTokens, { audit: createAuditSchema(audit), webhooks: webhooks.schema }, pipeline.guards);
        // Date, DateTime and BSN of ketengraph's subgraphs are parsed by the gateway as by the subgraphs, in every supergraph it loads.
        gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => parseInputScalars(apiSchema, coreSupergraphSdl));
        if (explorer) gateway.onSchemaLoadOrUpdate(({ apiSchema }) => explorer.setSchema(apiSchema));
        gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => (policies = readSchemaPolicies(coreSupergraphSdl, patientTypes)));
        apollo = new ApolloServer<GatewayContext>({
          gateway,
          includeStacktraceInErrorResponses: false,
          // The process's own shutdown (main.ts) owns SIGTERM/SIGINT; Apollo's handler would stop the server
          // underneath it and re-raise the signal, which left shutdown waiting for the forced exit.
          stopOnTerminationSignals: false,
          ...pipeline.apollo,
          plugins: [
            ...pipeline.pluginsBefore,
            ApolloServerPluginLandingPageDisabled(),
            subscriptionsOverHttpPlugin(),
            authorizationPlugin({
              policy: loadAccessPolicy(),
              policies: () => policies,
              mode: config.authorizationMode,
              audit,
              ...(features.events ? { placementPatients: placementPatientsAt(() => features.events!, auth.subgraphTokens) } : {}),
              ...(features.bsnLookup ? { bsnPatients: bsnPatientsAt(() => features.bsnLookup!, auth.subgraphTokens) } : {}),
            }),
            ...pipeline.pluginsAfter,
          ],
        });
        await apollo.start();
      },
      stop: () => apollo.stop(),
    },
    {
      name: 'event feed',
      start: () => {
        if (!features.events) return;
        events = createGatewayEvents({
          config: config.events,
          apollo,
          apiSchema: () => gateway.schema!,
          plaatsingUrl: features.events,
          tokens: auth.subgraphTokens,
          relationships: { policy: loadAccessPolicy(), policies: () => policies, sources: features.relationships },
        });
        subscriptions = setUpSubscriptions({ events, admission, apiSchema: () => gateway.schema!, maxBodyBytes: config.maxBodyBytes });
      },
      stop: () => events?.close(),
    },
    {
      name: 'handover relay',
      start: () => {
        if (!config.handoverRelay.enabled || !features.events || !features.handovers || !features.cvEntries) return;
        handoverRelay = startHandoverRelay({
          plaatsingUrl: features.events,
          kwaliteitUrl: features.handovers,
          forensischCvUrl: features.cvEntries,
          tokens: auth.subgraphTokens,
          config: config.handoverRelay,
          audit: (records) => audit.append(records),
        });
      },
      stop: () => handoverRelay?.close(),
    },
    {
      name: 'webhook delivery',
      start: () => {
        if (events) webhooks.start({ ...events, apiSchema: () => gateway.schema, admission });
      },
      stop: () => webhooks.stopDelivery(),
    },
    {
      name: 'http',
      start: async () => {
        http = await startHttpService<GatewayContext>({
          apollo,
          service: 'gateway',
          port: config.port,
          host: config.host,
          shutdownGraceMs: config.shutdownGraceMs,
          admit: admission.http,
          routes: async (request, response) =>
            (await subscriptions?.route(request, response)) || (await explorer?.route(request, response)) || auth.route(request, response),
          readiness: async () => ({ supergraph: true, auditLog: await audit.ready(), webhooks: await webhooks.ready() }),
          // A subgraph that is down is shown, not made the gateway's readiness: it still serves the rest as partial data.
          dependencies: async () =>
            Object.fromEntries(await Promise.all(endpoints.map(async ({ name, url }) => [name, await pipeline.subgraphReady(name, url)] as const))),
        });
      },
      stop: () => http.close(),
    },
    { name: 'subscriptions', start: () => subscriptions?.attach(http.server), stop: () => subscriptions?.close() },
  ];
  const close = await startInOrder(components);
  return { url: http.url, port: http.port, events, subscriptions, audit, handoverRelay, close };
}
