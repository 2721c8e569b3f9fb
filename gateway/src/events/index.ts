/**
 * Placement events at the gateway: the feed from plaatsing's event log and their resolution per
 * principal. Subscriptions (subscriptions/) and webhooks (webhooks/) are built on these.
 */
import type { ApolloServer } from '@apollo/server';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { SubgraphTokens } from '../federation/subgraph-tokens.js';
import type { GatewayContext } from '../admission/context.js';
import type { EventsConfig } from './config.js';
import { createRelationshipCheck, type RelationshipCheckOptions } from './relationship.js';
import { createEventFeed, type EventFeed, type PlacementChangeEvent } from './feed.js';
import { prepareSelection, probeSelection, resolveEvent, type EventResolution, type EventSelection, type PreparedSelection } from './resolve.js';

export * from './feed.js';
export * from './resolve.js';
export * from './config.js';
export * from './relationship.js';
export * from './handover-relay.js';

export interface GatewayEvents {
  feed: EventFeed;
  /** Validates a subscription operation against the gateway's API schema (throws a typed GraphQLError). */
  prepare(selection: EventSelection): PreparedSelection;
  /** One event as `context.principal` may receive it: authorised, completed and audited like a query. */
  resolve(prepared: PreparedSelection, event: PlacementChangeEvent, context: GatewayContext): Promise<EventResolution>;
  /** Errors that would refuse every event for this principal (no purpose, no access at all), or null. */
  probe(prepared: PreparedSelection, context: GatewayContext): Promise<readonly GraphQLFormattedError[] | null>;
  close(): Promise<void>;
}

export interface GatewayEventsOptions {
  config: EventsConfig;
  apollo: ApolloServer<GatewayContext>;
  /** The gateway's API schema (what clients may ask for), once loaded. */
  apiSchema: () => GraphQLSchema;
  /** plaatsing's GraphQL endpoint, which holds the event log. */
  plaatsingUrl: string;
  tokens: SubgraphTokens;
  /** For skipping, before resolving, the changes a provider or probation officer has no relationship with. */
  relationships: Omit<RelationshipCheckOptions, 'tokens'>;
}

export function createGatewayEvents(options: GatewayEventsOptions): GatewayEvents {
  const feed = createEventFeed({ url: options.plaatsingUrl, tokens: options.tokens, pollIntervalMs: options.config.pollIntervalMs });
  const relationship = createRelationshipCheck({ ...options.relationships, tokens: options.tokens });
  /**
   * Deliveries of one change that would resolve identically — the same principal, selection and
   * variables (many subscriptions of one partner system) — share one resolution while it runs:
   * a change then costs one federated query per distinct subscriber, not per subscription. Each
   * delivery still gets its own access-log record (GatewayContext.sharedWith).
   */
  const running = new Map<string, { members: string[]; sealed: boolean; result: Promise<EventResolution> }>();
  const resolve = (prepared: PreparedSelection, event: PlacementChangeEvent, context: GatewayContext): Promise<EventResolution> => {
    const { principal } = context;
    const key = JSON.stringify([
      String(event.sequence),
      prepared.query,
      prepared.operationName,
      prepared.variables,
      principal.subject,
      principal.organisationId,
      principal.role,
      principal.purpose,
      [...principal.scopes].sort(),
    ]);
    const joined = running.get(key);
    if (joined && !joined.sealed) {
      joined.members.push(context.requestId);
      return joined.result;
    }
    const group = { members: [] as string[], sealed: false, result: undefined as unknown as Promise<EventResolution> };
    const sharedWith = {
      seal: () => {
        group.sealed = true;
        return group.members;
      },
    };
    running.set(key, group);
    group.result = resolveEvent(options.apollo, prepared, event, { ...context, sharedWith }, relationship).finally(() => {
      group.sealed = true;
      if (running.get(key) === group) running.delete(key);
    });
    return group.result;
  };
  return {
    feed,
    prepare: (selection) => prepareSelection(options.apiSchema(), selection),
    resolve,
    probe: (prepared, context) => probeSelection(options.apollo, prepared, context),
    close: () => feed.close(),
  };
}
