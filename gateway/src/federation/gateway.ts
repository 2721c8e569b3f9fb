import { readFileSync } from 'node:fs';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { readSchemaPolicies } from '@ketengraph/service-kit';
import type { GraphQLSchema } from 'graphql';
import { GATEWAY_SUBGRAPHS } from '../../../schema/subgraphs.js';
import type { SubgraphTokens } from './subgraph-tokens.js';
import type { ResilienceConfig } from './resilience/config.js';
import type { SubgraphGuards } from './resilience/guard.js';
import { supergraphSource } from './supergraph-reload.js';
import { SubgraphDataSource } from './data-source.js';

/** The part of the gateway's configuration (config/) the federation reads. */
export interface FederationConfig {
  supergraphFile: string;
  /** Given directly (tests); takes precedence over the file. */
  supergraphSdl?: string;
  subgraphUrls: Record<string, string>;
  supergraphPollMs: number;
  resilience: ResilienceConfig;
}

/**
 * ketengraph's wrapper around @apollo/gateway: query planning and execution are Apollo's; the
 * supergraph source (followed on disk), subgraph routing and transport are ours. Later concerns
 * (authorization, subscriptions) hook in here rather than forking the gateway.
 */
export function createFederation(
  supergraphSdl: string,
  config: FederationConfig,
  tokens: SubgraphTokens,
  inProcess: Record<string, GraphQLSchema>,
  guards: SubgraphGuards,
): ApolloGateway {
  // Unless told otherwise, @apollo/gateway reports the host to Apollo every hour (OS, CPU, memory,
  // cloud provider, probed at start from the cloud providers' metadata addresses): a gateway in the
  // care chain makes no calls it was not configured to make.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  return new ApolloGateway({
    supergraphSdl: supergraphSource({
      initialSdl: supergraphSdl,
      ...(config.supergraphSdl === undefined ? { file: config.supergraphFile } : {}),
      pollMs: config.supergraphPollMs,
      prepare: prepareSupergraph,
    }),
    // Validated in every environment: a reloaded supergraph that does not hold together is refused.
    validateSupergraph: true,
    buildService: ({ name, url }) => {
      const schema = inProcess[name];
      if (schema) return new LocalGraphQLDataSource(schema);
      return new SubgraphDataSource(name, config.subgraphUrls[name] ?? url!, tokens, guards.of(name), config.resilience);
    },
  });
}

/** What the gateway loads from a supergraph file; throws for one whose authorization directives cannot be read. */
export function prepareSupergraph(sdl: string): string {
  readSchemaPolicies(sdl);
  return withoutSecurityPurpose(sdl);
}

export function readSupergraph(config: FederationConfig): string {
  return config.supergraphSdl ?? readFileSync(config.supergraphFile, 'utf8');
}

/**
 * @apollo/gateway refuses a supergraph whose authorization links are `for: SECURITY`, because it
 * does not enforce them itself. ketengraph enforces them (src/authorization), so it hands the
 * gateway the supergraph with the links as plain metadata.
 */
export function withoutSecurityPurpose(supergraphSdl: string): string {
  return supergraphSdl.replace(/(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:policy|authenticated|requiresScopes)\/v[\d.]+"), for: SECURITY\)/g, '$1)');
}

/** The subgraphs of a supergraph with the URLs the gateway routes to (not those the gateway serves itself). */
export function subgraphEndpoints(config: FederationConfig, sdl: string = readSupergraph(config)): { name: string; url: string }[] {
  const endpoints: { name: string; url: string }[] = [];
  for (const match of sdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g)) {
    const [, name, url] = match as unknown as [string, string, string];
    if (GATEWAY_SUBGRAPHS.some((entry) => entry.name === name)) continue;
    endpoints.push({ name, url: config.subgraphUrls[name] ?? url });
  }
  return endpoints;
}
