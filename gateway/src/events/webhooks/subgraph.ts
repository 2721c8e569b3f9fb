import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateTimeScalar, groupLoader } from '@ketengraph/service-kit';
import { parse, type GraphQLSchema } from 'graphql';
import type { GatewayContext } from '../../admission/context.js';
import type { EndpointManager, RegisterInput } from './endpoints.js';
import type { DeadLetter, DeliveryCount, DeliveryCounts, Endpoint, WebhookStore } from './store.js';

export const WEBHOOK_SCHEMA_FILE = new URL('./schema.graphql', import.meta.url);

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

const resolvers = (manager: EndpointManager, store: WebhookStore): GraphQLResolverMap<GatewayContext> => {
  // One statement for the delivery counts of all endpoints in a response (the context is per request).
  const countLoaders = new WeakMap<GatewayContext, ReturnType<typeof groupLoader<DeliveryCount>>>();
  const counts = async (context: GatewayContext, endpointId: string): Promise<DeliveryCounts> => {
    let loader = countLoaders.get(context);
    if (!loader)
      countLoaders.set(
        context,
        (loader = groupLoader(
          (ids) => store.deliveryCounts(ids),
          (row) => row.endpointId,
        )),
      );
    const totals: DeliveryCounts = { pending: 0, delivered: 0, skipped: 0, dead: 0 };
    for (const row of await loader.load(endpointId)) totals[row.status] = row.count;
    return totals;
  };
  return {
    DateTime: DateTimeScalar,
    Query: {
      webhookEndpoints: (_parent, args: PageArgs, { principal }) => store.endpoints(principal.organisationId, args.first, args.after),
      webhookEndpoint: (_parent, { id }: { id: string }, { principal }) => manager.get(principal, id),
      webhookDeadLetters: (_parent, args: PageArgs & { endpointId: string }, { principal }) =>
        manager.deadLetters(principal, args.endpointId, args.first, args.after),
    },
    Mutation: {
      registerWebhookEndpoint: (_parent, { input }: { input: RegisterInput }, { principal }) => manager.register(principal, input),
      verifyWebhookEndpoint: (_parent, { id }: { id: string }, { principal }) => manager.verify(principal, id),
      rotateWebhookSecret: (_parent, { id }: { id: string }, { principal }) => manager.rotateSecret(principal, id),
      pauseWebhookEndpoint: (_parent, { id }: { id: string }, { principal }) => manager.pause(principal, id),
      resumeWebhookEndpoint: (_parent, { id }: { id: string }, { principal }) => manager.resume(principal, id),
      deleteWebhookEndpoint: (_parent, { id }: { id: string }, { principal }) => manager.delete(principal, id),
      redeliverWebhookDeadLetter: (_parent, { id }: { id: string }, { principal }) => manager.redeliver(principal, id),
    },
    WebhookEndpoint: {
      status: (endpoint: Endpoint) => endpoint.status.toUpperCase(),
      registeredBy: (endpoint: Endpoint) => endpoint.owner,
      deliveries: (endpoint: Endpoint, _args: unknown, context: GatewayContext) => counts(context, endpoint.id),
    },
    WebhookDeadLetter: {
      sequence: (letter: DeadLetter) => letter.sequence.toString(),
    },
  };
};

/**
 * The `webhooks` subgraph: partners manage their endpoints through the graph. The gateway runs
 * it in-process (a LocalGraphQLDataSource, like `audit`): the webhook database has one owner per
 * instance and no route around the gateway's authentication; the resolvers read the verified
 * caller from the gateway's context. Mutations need the `webhook:write` scope (the policy file).
 */
export function createWebhookSchema(manager: EndpointManager, store: WebhookStore): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: parse(readFileSync(WEBHOOK_SCHEMA_FILE, 'utf8')),
    resolvers: resolvers(manager, store) as GraphQLResolverMap<unknown>,
  });
}
