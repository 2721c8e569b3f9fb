/**
 * What Apollo Server, the HTTP layer and the federation need from admission/ (limits, rate limit,
 * trusted documents), federation/resilience/ and observability/ (exposure, metrics, tracing),
 * assembled for server.ts. Each concern lives in its folder; this only wires them.
 */
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import { operationMetricsPlugin } from '@ketengraph/service-kit';
import type { AdmissionOptions } from '../admission/admit.js';
import type { GatewayConfig } from '../config/index.js';
import type { GatewayContext } from '../admission/context.js';
import { formatGatewayError, maskedErrorsPlugin } from '../observability/exposure/errors.js';
import { variableValuesPlugin } from '../federation/input-scalars.js';
import { requestLimits } from '../admission/limits/limits.js';
import { organisationRateLimiter } from '../admission/rate-limit/limiter.js';
import { SubgraphGuards } from '../federation/resilience/guard.js';
import { loadTrustedDocuments, MANIFEST_FILE, trustedDocumentResolver } from '../admission/trusted-documents/documents.js';

export interface RequestPipeline {
  guards: SubgraphGuards;
  /** Spread into the ApolloServer options. */
  apollo: Pick<
    ApolloServerOptions<GatewayContext>,
    'validationRules' | 'parseOptions' | 'introspection' | 'persistedQueries' | 'formatError' | 'allowBatchedHttpRequests'
  >;
  /** Plugins that must see the client's document, before authorization rewrites it. */
  pluginsBefore: ApolloServerPlugin<GatewayContext>[];
  /** Plugins that must see the response after authorization completed it. */
  pluginsAfter: ApolloServerPlugin<GatewayContext>[];
  /** The checks of the admission step (admission/admit.ts) that come from configuration. */
  admission: Omit<AdmissionOptions, 'authenticate'>;
  /** A subgraph is ready when its circuit is not open and its /ready answers. */
  subgraphReady(name: string, url: string): Promise<boolean>;
}

export function setUpRequestPipeline(config: GatewayConfig): RequestPipeline {
  const limits = requestLimits(config.limits, { fieldSuggestions: config.exposure.fieldSuggestions });
  const documents = loadTrustedDocuments(config.trustedDocumentsFile ?? MANIFEST_FILE, config.exposure.trustedDocuments);
  const guards = new SubgraphGuards(config.resilience);
  const rateLimit = organisationRateLimiter(config.rateLimit);
  return {
    guards,
    apollo: {
      validationRules: limits.validationRules,
      parseOptions: limits.parseOptions,
      introspection: config.exposure.introspection,
      persistedQueries: config.exposure.automaticPersistedQueries ? {} : false,
      formatError: formatGatewayError,
      allowBatchedHttpRequests: config.limits.batchSize > 1,
    },
    pluginsBefore: [...limits.plugins, variableValuesPlugin()],
    pluginsAfter: [maskedErrorsPlugin(), operationMetricsPlugin('gateway')],
    admission: {
      rateLimit,
      trustedDocuments: trustedDocumentResolver(documents, {
        enforce: config.exposure.trustedDocuments,
        automaticPersistedQueries: config.exposure.automaticPersistedQueries,
      }),
      limits,
      maxBodyBytes: config.maxBodyBytes,
      maxBatchSize: config.limits.batchSize,
    },
    subgraphReady: async (name, url) => {
      if (!guards.of(name).available) return false;
      return fetch(new URL('/ready', url), { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
    },
  };
}
