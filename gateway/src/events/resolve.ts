/**
 * What a subscriber (or a webhook endpoint's owner) receives for one placement event: the
 * selection under `placementChanged` run as the query `placementChange(cursor:)` through the
 * gateway's own Apollo Server pipeline, so the authorization plugin removes, completes and audits
 * it exactly as it would a query by the same principal. @apollo/gateway cannot execute
 * subscriptions; this is how the gateway serves them anyway.
 */
import { randomUUID } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import { badInput, decodeEventCursor, encodeEventCursor, type Principal, UNAUTHORIZED_CODE as UNAUTHORIZED } from '@ketengraph/service-kit';
import {
  getArgumentValues,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  print,
  specifiedRules,
  validate,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { GatewayContext } from '../admission/context.js';
import type { PlacementChangeEvent } from './feed.js';
import type { RelationshipCheck } from './relationship.js';

export const SUBSCRIPTION_FIELD = 'placementChanged';
export const QUERY_FIELD = 'placementChange';
/** The variable carrying the event's cursor into the query; the `kg__` prefix is the gateway's own. */
const CURSOR_VARIABLE = 'kg__cursor';
/** The query field a batch of changes is resolved with, and the variable carrying their cursors. */
const BATCH_FIELD = 'placementChanges';
const BATCH_VARIABLE = 'kg__cursors';
/** Changes resolved in one federated operation at most (plaatsing answers up to 100). */
export const MAX_BATCH = 64;

const argument = (name: string, variable: string) =>
  ({
    kind: Kind.ARGUMENT,
    name: { kind: Kind.NAME, value: name },
    value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variable } },
  }) as const;
const listOfStrings = {
  kind: Kind.NON_NULL_TYPE,
  type: { kind: Kind.LIST_TYPE, type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'String' } } } },
} as const;
const variableDefinition = (name: string, type: VariableDefinitionNode['type']): VariableDefinitionNode => ({
  kind: Kind.VARIABLE_DEFINITION,
  variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } },
  type,
});

/** A subscription operation as a client sends it (graphql-ws, SSE, a webhook registration). */
export interface EventSelection {
  document: DocumentNode | string;
  variables?: Record<string, unknown> | null | undefined;
  operationName?: string | null | undefined;
}

/** `PlacementChangeFilter`: all given conditions must hold. */
export interface PlacementChangeFilter {
  patientId?: string | null;
  trajectoryId?: string | null;
  providerId?: string | null;
  toStatus?: string[] | null;
}

/** A validated subscription, ready to be resolved for event after event. */
export interface PreparedSelection {
  /** The query run per event (the subscription's selection under `placementChange(cursor:)`). */
  query: string;
  operationName: string | null;
  /** The subscription's variables, coerced, without the cursor. */
  variables: Record<string, unknown>;
  /** Response key of `placementChanged` (its alias, if any); the payload is under it. */
  responseKey: string;
  filter: PlacementChangeFilter | null;
  /** Sequence of the `after` cursor; null: live only. */
  after: bigint | null;
  /** The same selection under `placementChanges(cursors:)`: a batch of changes in one operation (resolveEvents). */
  batchQuery: string;
}

/** One receiver of a change: a subscription's delivery or a webhook attempt, audited as its own access. */
export interface EventDelivery {
  requestId: string;
  principal: Principal;
}

export type EventResolution =
  /** The payload, completed and audited like a query's: `{ data: { placementChanged: … }, errors? }`. */
  | { kind: 'deliver'; result: { data: Record<string, unknown>; errors?: readonly GraphQLFormattedError[] } }
  /** The principal may not see this event at all (filter, role or relationship): send nothing. */
  | { kind: 'skip' }
  /** It could not be resolved now (a subgraph or the access log unavailable, no purpose of use): nothing was delivered. */
  | { kind: 'failed'; errors: readonly GraphQLFormattedError[] };

function invalid(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
}

/**
 * Checks a subscription against the gateway's API schema and turns it into the per-event query;
 * throws a GraphQLError with GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED or BAD_USER_INPUT.
 */
export function prepareSelection(schema: GraphQLSchema, selection: EventSelection): PreparedSelection {
  let document: DocumentNode;
  try {
    document = typeof selection.document === 'string' ? parse(selection.document) : selection.document;
  } catch (error) {
    throw new GraphQLError(error instanceof GraphQLError ? error.message : 'The operation could not be parsed.', {
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
  }
  const errors = validate(schema, document, specifiedRules);
  if (errors.length) throw invalid(errors.map((e) => e.message).join(' '));
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = selection.operationName
    ? operations.find((o) => o.name?.value === selection.operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!operation)
    throw invalid(
      selection.operationName ? `No operation named ${selection.operationName} in the document.` : 'The document has several operations; give operationName.',
    );
  if (operation.operation !== 'subscription') throw invalid(`Expected a subscription operation, got a ${operation.operation}.`);
  const root = operation.selectionSet.selections[0];
  // Validation allows exactly one root field in a subscription; it must be ours, not a fragment around it.
  if (operation.selectionSet.selections.length !== 1 || root?.kind !== Kind.FIELD || root.name.value !== SUBSCRIPTION_FIELD || !root.selectionSet) {
    throw invalid(`Subscribe to ${SUBSCRIPTION_FIELD} with a selection of the change.`);
  }
  if (operation.variableDefinitions?.some((v) => v.variable.name.value.startsWith('kg__'))) throw invalid('Variable names starting with $kg__ are reserved.');

  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], selection.variables ?? {});
  if (coerced.errors) throw badInput(coerced.errors.map((e) => e.message).join(' '), 'variables');
  const field = schema.getSubscriptionType()!.getFields()[SUBSCRIPTION_FIELD]!;
  const args = getArgumentValues(field, root, coerced.coerced) as { filter?: PlacementChangeFilter | null; after?: string | null };
  const after = args.after == null ? null : decodeEventCursor(args.after, 'after');

  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const used = usedByField(root, fragments);
  const queryField: FieldNode = {
    ...root,
    alias: { kind: Kind.NAME, value: root.alias?.value ?? SUBSCRIPTION_FIELD },
    name: { kind: Kind.NAME, value: QUERY_FIELD },
    arguments: [
      { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'cursor' }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: CURSOR_VARIABLE } } },
    ],
  };
  const query: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: 'query' as OperationDefinitionNode['operation'],
    ...(operation.name ? { name: operation.name } : {}),
    variableDefinitions: [
      {
        kind: Kind.VARIABLE_DEFINITION,
        variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: CURSOR_VARIABLE } },
        type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'String' } } },
      },
      ...(operation.variableDefinitions ?? []).filter((v) => used.variables.has(v.variable.name.value)),
    ],
    directives: [],
    selectionSet: { kind: Kind.SELECTION_SET, selections: [queryField] },
  };
  const usedFragments = [...used.fragments].map((name) => fragments.get(name)!);
  const queryDocument: DocumentNode = { kind: Kind.DOCUMENT, definitions: [query, ...usedFragments] };
  // The batch: one list field for any number of changes, so one document (one rewrite, one query
  // plan) serves every batch, and @apollo/gateway fetches the entities of all of them together.
  const batchField: FieldNode = { ...queryField, name: { kind: Kind.NAME, value: BATCH_FIELD }, arguments: [argument('cursors', BATCH_VARIABLE)] };
  const batchOperation: OperationDefinitionNode = {
    ...query,
    variableDefinitions: [variableDefinition(BATCH_VARIABLE, listOfStrings), ...query.variableDefinitions!.slice(1)],
    selectionSet: { kind: Kind.SELECTION_SET, selections: [batchField] },
  };
  const batchDocument: DocumentNode = { kind: Kind.DOCUMENT, definitions: [batchOperation, ...usedFragments] };
  const variables = Object.fromEntries(Object.entries(coerced.coerced).filter(([name]) => used.variables.has(name)));
  return {
    query: print(queryDocument),
    operationName: operation.name?.value ?? null,
    variables,
    responseKey: root.alias?.value ?? SUBSCRIPTION_FIELD,
    filter: args.filter ?? null,
    after,
    batchQuery: print(batchDocument),
  };
}

/** Variables and fragments the selection under the root field needs (the root's own arguments excepted). */
function usedByField(root: FieldNode, fragments: Map<string, FragmentDefinitionNode>): { variables: Set<string>; fragments: Set<string> } {
  const variables = new Set<string>();
  const used = new Set<string>();
  const pending = [root.selectionSet!, ...(root.directives ?? [])] as Parameters<typeof visit>[0][];
  while (pending.length) {
    visit(pending.pop()!, {
      Variable: (node) => {
        variables.add(node.name.value);
      },
      FragmentSpread: (node) => {
        if (used.has(node.name.value)) return;
        used.add(node.name.value);
        const fragment = fragments.get(node.name.value);
        if (fragment) pending.push(fragment);
      },
    });
  }
  return { variables, fragments: used };
}

/** Whether an event passes a subscription's filter (decided on the event itself, before anything is fetched). */
export function matchesFilter(event: PlacementChangeEvent, filter: PlacementChangeFilter | null): boolean {
  if (!filter) return true;
  if (filter.patientId != null && filter.patientId !== event.patientId) return false;
  if (filter.trajectoryId != null && filter.trajectoryId !== event.trajectoryId) return false;
  if (filter.providerId != null && filter.providerId !== event.providerId) return false;
  if (filter.toStatus != null && !filter.toStatus.includes(event.toStatus)) return false;
  return true;
}

/** The changes of a batch with who receives each; all receivers share one authorization context (see events/index.ts). */
export interface EventBatchItem {
  event: PlacementChangeEvent;
  deliveries: readonly EventDelivery[];
}

/**
 * Resolves a batch of changes (each passing its receivers' filters) for receivers who share one
 * authorization context (organisation, role, purpose, scopes) and one selection, in one operation through the gateway's pipeline
 * (authorization, federation, completion). The access log gets one record per delivery — per
 * receiver and change, under the receiver's own name and request id (GatewayContext.deliveries).
 * Returns one resolution per item, in order.
 */
export async function resolveEvents(
  apollo: ApolloServer<GatewayContext>,
  prepared: PreparedSelection,
  items: readonly EventBatchItem[],
  relationship?: RelationshipCheck,
): Promise<EventResolution[]> {
  const results: EventResolution[] = items.map(() => ({ kind: 'skip' }));
  const principal = items[0]?.deliveries[0]?.principal;
  if (!principal) return results;
  let todo = items.map((_, index) => index);
  if (relationship && todo.length) {
    let related: ReadonlySet<string> | null;
    try {
      related = await relationship(
        principal,
        todo.map((index) => items[index]!.event.patientId),
      );
    } catch (error) {
      const code = error instanceof GraphQLError && typeof error.extensions.code === 'string' ? error.extensions.code : 'DEPENDENCY_UNAVAILABLE';
      const failed: EventResolution = {
        kind: 'failed',
        errors: [{ message: 'The relationship with the patient could not be checked; try again later.', extensions: { code } }],
      };
      for (const index of todo) results[index] = failed;
      return results;
    }
    if (related) todo = todo.filter((index) => related.has(items[index]!.event.patientId));
  }
  for (let from = 0; from < todo.length; from += MAX_BATCH) {
    const chunk = todo.slice(from, from + MAX_BATCH);
    const resolved = await resolveChunk(
      apollo,
      prepared,
      chunk.map((index) => items[index]!),
      principal,
    );
    chunk.forEach((index, i) => (results[index] = resolved[i]!));
  }
  return results;
}

async function resolveChunk(
  apollo: ApolloServer<GatewayContext>,
  prepared: PreparedSelection,
  items: readonly EventBatchItem[],
  principal: Principal,
): Promise<EventResolution[]> {
  const key = prepared.responseKey;
  const response = await apollo.executeOperation(
    {
      query: prepared.batchQuery,
      operationName: prepared.operationName ?? undefined,
      variables: { ...prepared.variables, [BATCH_VARIABLE]: items.map((item) => item.event.cursor) },
    },
    { contextValue: { requestId: `events-${randomUUID()}`, principal, deliveries: { key, receivers: items.map((item) => item.deliveries) } } },
  );
  if (response.body.kind !== 'single')
    return items.map(() => ({ kind: 'failed', errors: [{ message: 'Unexpected incremental response.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
  const { data, errors = [] } = response.body.singleResult;
  const list = data?.[key];
  const indexOf = (error: GraphQLFormattedError) => (error.path?.[0] === key && typeof error.path[1] === 'number' ? error.path[1] : null);
  // Errors of the whole operation or the whole list (the access log or plaatsing unavailable, a refusal) concern every change.
  const general = errors.filter((error) => indexOf(error) === null);
  return items.map((_, index): EventResolution => {
    const own = errors.filter((error) => indexOf(error) === index).map((error) => ({ ...error, path: [key, ...error.path!.slice(2)] }));
    const problems = [...general, ...own];
    const payload = Array.isArray(list) ? list[index] : null;
    if (payload !== null && payload !== undefined) {
      const result = { [key]: payload };
      return { kind: 'deliver', result: problems.length ? { data: result, errors: problems } : { data: result } };
    }
    // Null because it is withheld (by the gateway's rules or the relationship check in plaatsing), or because there is no such event for it.
    if (problems.every((e) => e.extensions?.code === UNAUTHORIZED)) return { kind: 'skip' };
    return { kind: 'failed', errors: problems.filter((e) => e.extensions?.code !== UNAUTHORIZED) };
  });
}

/**
 * Runs a prepared selection once for a cursor no event has (sequence 0), so what would refuse
 * every event refuses the subscription up front instead: no purpose of use, a role that may not
 * see placement changes at all. Returns the errors, or null when events can be resolved.
 */
export async function probeSelection(
  apollo: ApolloServer<GatewayContext>,
  prepared: PreparedSelection,
  context: GatewayContext,
): Promise<readonly GraphQLFormattedError[] | null> {
  const response = await apollo.executeOperation(
    {
      query: prepared.query,
      operationName: prepared.operationName ?? undefined,
      variables: { ...prepared.variables, [CURSOR_VARIABLE]: encodeEventCursor(0n) },
    },
    { contextValue: context },
  );
  if (response.body.kind !== 'single') return [{ message: 'Unexpected incremental response.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }];
  const errors = response.body.singleResult.errors ?? [];
  return errors.length ? errors : null;
}
