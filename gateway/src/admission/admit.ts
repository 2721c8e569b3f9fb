/**
 * The gateway's one admission step. Every way in — HTTP POST and GET, Server-Sent Events,
 * WebSocket, a webhook's registered selection — passes the same checks, in the same order, with
 * the same refusals (HttpError or AuthenticationError, each with its registered code):
 *
 *   1. caller       the bearer token (401 UNAUTHENTICATED), and when it expires
 *   2. rate limit   per organisation (429 RATE_LIMITED); one point per request or new subscription
 *   3. body         size (413 PAYLOAD_TOO_LARGE), JSON (400 BAD_REQUEST), NUL (400 BAD_USER_INPUT),
 *                   batch size (400 BATCH_TOO_LARGE)
 *   4. document     trusted documents: an id becomes its registered text, an unregistered document
 *                   is refused when enforced (PERSISTED_QUERY_NOT_IN_LIST / _NOT_FOUND)
 *   5. operation    tokens, depth, aliases, directives and cost of the document as sent
 *                   (TOO_MANY_TOKENS, QUERY_TOO_DEEP, TOO_MANY_ALIASES, TOO_MANY_DIRECTIVES, QUERY_TOO_COSTLY)
 *
 * For HTTP requests Apollo Server runs step 5 itself, with the same validation rules (edge/apollo.ts),
 * together with operation choice, list sizes and authorization (plugins). The purpose of use is
 * judged by authorization (PURPOSE_REQUIRED), because it depends on whether the operation asks
 * for patient data; every transport's operation runs through that same plugin. Subscriptions and webhook
 * selections are executed per event through the same Apollo pipeline, which applies those again.
 * The transports (edge/, events/subscriptions/, events/webhooks/) only adapt their protocol to this.
 */
import type { IncomingMessage } from 'node:http';
import { checkGraphQLSearch, HttpError, parseGraphQLBody, readBody, type Principal } from '@ketengraph/service-kit';
import { parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { decodeJwt } from 'jose';
import type { GatewayContext } from './context.js';
import { isTokenLimitError, LimitError, type RequestLimits } from './limits/limits.js';

/** A verified caller and when its token expires (ms since the epoch): a subscription ends then. */
export interface Caller {
  principal: Principal;
  expiresAt: number;
}

/** A GraphQL request's parameters as a transport received them (body of a POST, message of a subscribe). */
export interface OperationParams {
  query?: unknown;
  documentId?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

type TrustedDocuments = (request: { method: string; body: unknown; search: string }) => { body: unknown; search: string };

export interface AdmissionOptions {
  /** Verifies a request's bearer token; rejects with AuthenticationError. */
  authenticate(request: IncomingMessage): Promise<Principal>;
  /** Counts one request against the organisation's rate; rejects with HttpError 429. */
  rateLimit(organisationId: string): Promise<void>;
  trustedDocuments: TrustedDocuments;
  limits: Pick<RequestLimits, 'validationRules' | 'parseOptions'>;
  maxBodyBytes: number;
  maxBatchSize: number;
}

export interface Admission {
  /** Step 1 for a transport that carries the token elsewhere than a header (WebSocket connectionParams). */
  caller(authorization: string | undefined): Promise<Caller>;
  /** Steps 1-4 for a GraphQL request over HTTP (POST or GET); Apollo Server runs step 5. */
  http(request: IncomingMessage, requestId: string): Promise<{ context: GatewayContext; body: unknown; search: string }>;
  /** Steps 1 and 3 for a Server-Sent Events request: its caller, and its body as text for graphql-sse. */
  stream(request: IncomingMessage): Promise<{ caller: Caller; body: string }>;
  /** Steps 2, 4 and 5 for a new subscription (any transport): returns the document to run. */
  subscription(principal: Principal, schema: GraphQLSchema, params: OperationParams): Promise<string>;
  /** Steps 4 and 5 for a webhook's selection (its registration was a request admitted over HTTP): returns the document to run per event. */
  selection(schema: GraphQLSchema, selection: string): string;
}

const DOCUMENT_ID = /^sha256:[0-9a-f]{64}$/i;

export function createAdmission(options: AdmissionOptions): Admission {
  const caller = async (authorization: string | undefined): Promise<Caller> => {
    const principal = await options.authenticate({ headers: authorization === undefined ? {} : { authorization } } as IncomingMessage);
    // Verified above (signature, issuer, audience, exp required); only the expiry is read again.
    const token = authorization!.replace(/^Bearer +/i, '');
    return { principal, expiresAt: decodeJwt(token).exp! * 1000 };
  };

  const rateLimit = (principal: Principal) => options.rateLimit(principal.organisationId);

  const body = async (request: IncomingMessage): Promise<unknown> =>
    parseGraphQLBody(await readBody(request, options.maxBodyBytes), { maxBodyBytes: options.maxBodyBytes, maxBatchSize: options.maxBatchSize });

  /** Step 4 for one operation outside an HTTP request: the document text, resolved from its id where it has one. */
  const document = (params: OperationParams): string => {
    // NUL as in step 3: the transport's message was parsed without passing it.
    parseGraphQLBody(JSON.stringify(params), { maxBodyBytes: Number.POSITIVE_INFINITY });
    const { body: resolved } = options.trustedDocuments({ method: 'POST', body: params, search: '' });
    const query = (resolved as OperationParams).query;
    if (typeof query !== 'string') throw new HttpError(400, 'BAD_REQUEST', 'Send the operation as `query`, or the id of a trusted document as `documentId`.');
    return query;
  };

  /** Step 5: the same validation rules Apollo Server runs on an HTTP request's document. */
  const operation = (schema: GraphQLSchema, query: string): void => {
    let parsed: DocumentNode;
    try {
      parsed = parse(query, options.limits.parseOptions);
    } catch (error) {
      if (error instanceof Error && isTokenLimitError(error)) throw new LimitError('TOO_MANY_TOKENS', error.message.replace(/^Syntax Error: /, ''));
      return; // not a document at all: the transport's own validation names what is wrong
    }
    const refusal = validate(schema, parsed, options.limits.validationRules).find((error) => error instanceof LimitError);
    if (refusal) throw refusal;
  };

  return {
    caller,
    async http(request, requestId) {
      const { principal } = await caller(headerOf(request, 'authorization'));
      await rateLimit(principal);
      let parsed: unknown;
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (request.method === 'POST') parsed = await body(request);
      if (request.method === 'GET') checkGraphQLSearch(url.search);
      const admitted = options.trustedDocuments({ method: request.method ?? 'GET', body: parsed, search: url.search });
      return { context: { requestId, principal }, body: admitted.body, search: admitted.search };
    },
    async stream(request) {
      const admitted = await caller(headerOf(request, 'authorization'));
      // graphql-sse parses the body again; the text handed on is the checked one.
      return { caller: admitted, body: request.method === 'POST' ? JSON.stringify(await body(request)) : '' };
    },
    async subscription(principal, schema, params) {
      await rateLimit(principal);
      const query = document(params);
      operation(schema, query);
      return query;
    },
    selection(schema, selection) {
      const trimmed = selection.trim();
      const query = document(DOCUMENT_ID.test(trimmed) ? { documentId: trimmed } : { query: selection });
      operation(schema, query);
      return query;
    },
  };
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
