/**
 * A webhook's payload is a GraphQL subscription on `placementChanged`, checked against the
 * gateway's API schema at registration like any operation would be; at delivery it is resolved
 * (authorised, completed, audited) exactly like a subscription event.
 */
import { badInput } from '@ketengraph/service-kit';
import {
  GraphQLError,
  isEnumType,
  isInputObjectType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { WebhookFilter } from './store.js';
import { isNonPublicAddress } from '@ketengraph/service-kit';

export const EVENT_FIELD = 'placementChanged';
const MAX_SELECTION_LENGTH = 10_000;

/** Parses and validates a selection; a typed BAD_USER_INPUT on `input.selection` says what is wrong. */
export function checkSelection(schema: GraphQLSchema, source: string): DocumentNode {
  const fail = (message: string): never => {
    throw badInput(`The selection ${message}`, 'selection');
  };
  if (source.length > MAX_SELECTION_LENGTH) fail(`is longer than ${MAX_SELECTION_LENGTH} characters.`);
  let document: DocumentNode;
  try {
    document = parse(source, { maxTokens: 2000 });
  } catch (error) {
    return fail(`is not a GraphQL document: ${error instanceof GraphQLError ? error.message : 'syntax error'}`);
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) fail('must contain exactly one operation.');
  const operation = operations[0]!;
  if (operation.operation !== 'subscription') fail(`must be a subscription (\`subscription { ${EVENT_FIELD} { … } }\`).`);
  if (operation.variableDefinitions?.length) fail('must not declare variables: a webhook payload is resolved without them.');
  const errors = validate(schema, document);
  if (errors.length) fail(`does not fit the schema: ${errors[0]!.message}`);
  const roots = operation.selectionSet.selections;
  if (roots.length !== 1 || roots[0]!.kind !== Kind.FIELD || roots[0]!.name.value !== EVENT_FIELD) fail(`must select exactly the field ${EVENT_FIELD}.`);
  const root = roots[0] as { arguments?: readonly { name: { value: string } }[] };
  if (root.arguments?.length)
    fail(`must not give ${EVENT_FIELD} arguments: the endpoint's filter chooses the events, and deliveries continue from the verification on.`);
  return document;
}

/** Checks filter values against the API schema (statuses are PlacementStatus values, the one list of them). */
export function checkFilter(schema: GraphQLSchema, input: Partial<Record<keyof WebhookFilter, unknown>> | null | undefined): WebhookFilter {
  const id = (value: unknown, field: string): string | null => {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string' || value.length === 0 || value.length > 100)
      throw badInput(`${field} must be an id of at most 100 characters.`, `filter.${field}`);
    return value;
  };
  const statuses = (input?.toStatus ?? []) as string[];
  const allowed = statusValues(schema);
  for (const status of statuses) {
    if (!allowed.includes(status))
      throw badInput(`toStatus ${JSON.stringify(status).slice(0, 40)} is not a placement status; use one of ${allowed.join(', ')}.`, 'filter.toStatus');
  }
  return {
    patientId: id(input?.patientId, 'patientId'),
    trajectoryId: id(input?.trajectoryId, 'trajectoryId'),
    providerId: id(input?.providerId, 'providerId'),
    toStatus: [...new Set(statuses)],
  };
}

function statusValues(schema: GraphQLSchema): string[] {
  const filter = schema.getType('PlacementChangeFilter');
  const field = isInputObjectType(filter) ? filter.getFields().toStatus : undefined;
  let type = field?.type;
  while (type && 'ofType' in type) type = type.ofType;
  return isEnumType(type) ? type.getValues().map((v) => v.name) : [];
}

/** The receiver URL: absolute, https (or http where allowed), without credentials, on a public address unless allowed. */
export function checkUrl(value: string, allowHttp: boolean, allowPrivateAddresses = true): string {
  const fail = (message: string): never => {
    throw badInput(`The url ${message}`, 'url');
  };
  if (value.length > 2000) fail('is longer than 2000 characters.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('is not an absolute URL.');
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) fail(allowHttp ? 'must use https or http.' : 'must use https.');
  if (url.username || url.password) fail('must not contain credentials; receivers verify the signature instead.');
  if (url.hash) fail('must not contain a fragment.');
  // A literal address is refused here; a name is checked when a delivery connects (receiver.ts).
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!allowPrivateAddresses && (host === 'localhost' || isNonPublicAddress(host)))
    fail('must point to a public address; receivers are reached over the internet.');
  return url.href;
}
