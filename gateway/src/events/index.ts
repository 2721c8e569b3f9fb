/**
 * Placement events at the gateway: the feed from plaatsing's event log and their resolution per
 * principal. Subscriptions (subscriptions/) and webhooks (webhooks/) are built on these.
 */
import type { ApolloServer } from '@apollo/server';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Principal } from '@ketengraph/service-kit';
import type { SubgraphTokens } from '../federation/subgraph-tokens.js';
import type { GatewayContext } from '../admission/context.js';
import type { EventsConfig } from './config.js';
import { createRelationshipCheck, type RelationshipCheckOptions } from './relationship.js';
import { createEventFeed, type EventFeed, type PlacementChangeEvent } from './feed.js';
import {
  matchesFilter,
  prepareSelection,
  probeSelection,
  resolveEvents,
  type EventDelivery,
  type EventResolution,
  type EventSelection,
  type PreparedSelection,
} from './resolve.js';

interface PendingChange {
  event: PlacementChangeEvent;
  deliveries: EventDelivery[];
  waiters: { resolve: (resolution: EventResolution) => void; reject: (error: unknown) => void }[];
}

export * from './feed.js';
export * from './resolve.js';
export * from './config.js';
export * from './relationship.js';
export * from './handover-relay.js';

/** Batches of one group (selection and authorization context) resolved at once; see createGatewayEvents. */
const RESOLUTIONS_PER_GROUP = 2;

export interface GatewayEvents {
  feed: EventFeed;
  /** Validates a subscription operation against the gateway's API schema (throws a typed GraphQLError). */
  prepare(selection: EventSelection): PreparedSelection;
  /** One event as `context.principal` may receive it: authorised, completed and audited like a query (`context.requestId` names the delivery in the access log). */
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
   * Deliveries that would resolve identically share one resolution: the same selection and
   * variables, and the same authorization context — organisation, role, purpose and scopes, all
   * that field rules, relationship rules and the subgraphs' reads depend on (never the person:
   * each delivery is still audited under its own name). Never across contexts: that would hand
   * one receiver what only another may see. Requests arriving in one turn of the event loop (a
   * live batch fans out to every subscription at once) are grouped, and each group's changes are
   * resolved together in one federated operation (resolveEvents).
   */
  const pending = new Map<string, { prepared: PreparedSelection; changes: Map<bigint, PendingChange> }>();
  /**
   * Resolutions running per group, at most RESOLUTIONS_PER_GROUP: changes arriving meanwhile wait
   * and go together in the next batch, so batches grow with the load instead of the number of
   * concurrent operations (and the latency of each) growing. More than one, so that the next
   * batch is fetched from the subgraphs while the previous one's access-log records are written.
   */
  const running = new Map<string, number>();
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  const flush = () => {
    scheduled = false;
    for (const [key, { prepared, changes }] of [...pending]) {
      const count = running.get(key) ?? 0;
      if (count >= RESOLUTIONS_PER_GROUP) continue;
      pending.delete(key);
      running.set(key, count + 1);
      const batch = [...changes.values()].sort((a, b) => (a.event.sequence < b.event.sequence ? -1 : 1));
      resolveEvents(options.apollo, prepared, batch, relationship)
        .then(
          (resolutions) => batch.forEach((change, index) => change.waiters.forEach((waiter) => waiter.resolve(resolutions[index]!))),
          (error: unknown) => batch.forEach((change) => change.waiters.forEach((waiter) => waiter.reject(error))),
        )
        .finally(() => {
          const left = running.get(key)! - 1;
          if (left > 0) running.set(key, left);
          else running.delete(key);
          if (pending.has(key)) schedule();
        });
    }
  };
  /** Per selection and principal (a subscription asks with the same two objects for every change): its group's key. */
  const keys = new WeakMap<PreparedSelection, WeakMap<Principal, string>>();
  const groupKey = (prepared: PreparedSelection, principal: Principal): string => {
    let byPrincipal = keys.get(prepared);
    if (!byPrincipal) keys.set(prepared, (byPrincipal = new WeakMap()));
    let key = byPrincipal.get(principal);
    if (key === undefined) {
      key = JSON.stringify([
        prepared.query,
        prepared.operationName,
        prepared.variables,
        principal.organisationId,
        principal.role,
        principal.purpose,
        [...principal.scopes].sort(),
      ]);
      byPrincipal.set(principal, key);
    }
    return key;
  };
  const resolve = (prepared: PreparedSelection, event: PlacementChangeEvent, context: GatewayContext): Promise<EventResolution> => {
    // Decided on the event itself, before anything is fetched; filters differ between receivers that share resolutions.
    if (!matchesFilter(event, prepared.filter)) return Promise.resolve({ kind: 'skip' });
    const key = groupKey(prepared, context.principal);
    let group = pending.get(key);
    if (!group) pending.set(key, (group = { prepared, changes: new Map() }));
    let change = group.changes.get(event.sequence);
    if (!change) group.changes.set(event.sequence, (change = { event, deliveries: [], waiters: [] }));
    change.deliveries.push({ requestId: context.requestId, principal: context.principal });
    schedule();
    return new Promise((resolve, reject) => change.waiters.push({ resolve, reject }));
  };
  return {
    feed,
    prepare: (selection) => prepareSelection(options.apiSchema(), selection),
    resolve,
    probe: (prepared, context) => probeSelection(options.apollo, prepared, context),
    close: () => feed.close(),
  };
}
