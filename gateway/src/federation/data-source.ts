import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { injectTrace, serviceLogger } from '@ketengraph/service-kit';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import type { SubgraphTokens } from './subgraph-tokens.js';
import { collectWriteRecords } from '../audit/writes.js';
import type { GatewayContext } from '../admission/context.js';
import { subgraphLatency, subgraphRequests, subgraphRequestsShared } from '../observability/metrics.js';
import type { ResilienceConfig } from './resilience/config.js';
import { faultOf, SubgraphFault } from './resilience/faults.js';
import { boundedFetch, type SubgraphFetch, type SubgraphResponse } from './resilience/fetch.js';
import type { SubgraphGuard } from './resilience/guard.js';

const log = serviceLogger('gateway');

type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;
/** A fetch made for a client's operation (not a health check or schema load). */
type OperationFetch = Extract<ProcessOptions, { incomingRequestContext: unknown }>;
type GatewayGraphQLResponse = Awaited<ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']>>;

/**
 * How the gateway calls a subgraph: over undici (keep-alive pooled, bounded in time and
 * size), carrying the request id and the W3C trace context, so subgraph logs and spans line up
 * with the gateway's, and the gateway's short-lived token for the caller, without which a
 * subgraph answers 401. Through the subgraph's guard (breaker, retries for queries), a failed
 * call becomes partial data: the fields of this fetch are null with SUBGRAPH_UNAVAILABLE.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    readonly subgraph: string,
    url: string,
    private readonly tokens: SubgraphTokens,
    private readonly guard: SubgraphGuard,
    resilience: ResilienceConfig,
  ) {
    const fetch = answersRefusals(boundedFetch(resilience));
    super({ url, fetcher: fetch as never });
    this.fetch = fetch;
  }

  private readonly fetch: SubgraphFetch;
  /**
   * Queries on their way to this subgraph, by the caller's authorization and the request body:
   * an identical query for the same caller made meanwhile waits for that answer instead of
   * asking again. The token names the caller (subject, organisation, role, scopes, purpose), so
   * two callers never share an answer; each parses the body itself, so none shares objects.
   */
  private readonly inFlight = new Map<string, Promise<SubgraphResponse>>();

  override async process(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    if (!('incomingRequestContext' in options)) return super.process(options);
    const idempotent = isQuery(options);
    const started = performance.now();
    try {
      const response = await this.guard.run(idempotent, () => this.send(options, idempotent));
      subgraphRequests.inc({ subgraph: this.subgraph, outcome: 'ok' });
      return response;
    } catch (error) {
      const fault = faultOf(error);
      subgraphRequests.inc({ subgraph: this.subgraph, outcome: fault.reason });
      log.warn({ requestId: options.context.requestId, subgraph: this.subgraph, reason: fault.reason, status: fault.status }, 'subgraph unavailable');
      return unavailable(this.subgraph, options);
    } finally {
      subgraphLatency.observe({ subgraph: this.subgraph }, (performance.now() - started) / 1000);
    }
  }

  /**
   * One call for a client's operation. Leaner than RemoteGraphQLDataSource's own (which builds
   * node-fetch Headers and a Request per call that nothing here reads): the body is serialised
   * once and the answer parsed once per caller.
   */
  private async send(options: OperationFetch, idempotent: boolean): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    if (!request.query) throw new SubgraphFault('internal');
    const authorization = `Bearer ${await this.tokens.tokenFor(context.principal)}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': context.requestId, authorization };
    injectTrace((key, value) => (headers[key] = value));
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName, extensions: request.extensions });
    const response = idempotent
      ? await this.shared(`${authorization}\n${body}`, headers, body)
      : await this.fetch(this.url!, { method: 'POST', headers, body });
    if (!response.ok) return this.errorFromResponse(response as never);
    const parsed = await this.parseBody(response as never);
    if (typeof parsed !== 'object' || parsed === null) throw new SubgraphFault('malformed');
    return this.didReceiveResponse({ response: parsed as GatewayGraphQLResponse, request, context });
  }

  /** The answer of an identical query of the same caller already on its way, or a new call (the request id and trace are the first caller's). */
  private shared(key: string, headers: Record<string, string>, body: string): Promise<SubgraphResponse> {
    const pending = this.inFlight.get(key);
    if (pending) {
      subgraphRequestsShared.inc({ subgraph: this.subgraph });
      return pending;
    }
    const call = this.fetch(this.url!, { method: 'POST', headers, body }).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    return call;
  }

  override async willSendRequest({ request, context }: ProcessOptions): Promise<void> {
    if (!('requestId' in context)) return; // health checks and introspection run without a request
    request.http?.headers.set('x-request-id', context.requestId);
    request.http?.headers.set('authorization', `Bearer ${await this.tokens.tokenFor(context.principal)}`);
    injectTrace((key, value) => request.http?.headers.set(key, value));
  }

  /** A non-2xx answer is a fault; its body (possibly large, possibly internal detail) is not read. */
  override async errorFromResponse(response: Response): Promise<never> {
    throw new SubgraphFault('http-status', response.status);
  }

  override async parseBody(response: Pick<SubgraphResponse, 'headers' | 'json'>): Promise<object | string> {
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('application/json') && !type.startsWith('application/graphql-response+json')) throw new SubgraphFault('malformed');
    try {
      return (await response.json()) as object;
    } catch {
      throw new SubgraphFault('malformed');
    }
  }

  /** Only a GraphQL response shape reaches the gateway's merging: `data` an object or null, `errors` a list of objects. */
  override async didReceiveResponse({
    response,
    request,
    context,
  }: {
    response: GatewayGraphQLResponse;
    request: { variables?: Record<string, unknown> };
    context: GatewayContext | Record<string, unknown>;
  }): Promise<GatewayGraphQLResponse> {
    collectWriteRecords(response as { extensions?: Record<string, unknown> }, context);
    const { data, errors } = response as { data?: unknown; errors?: unknown };
    const representations = request.variables?.representations;
    // An entity fetch must answer one entry per representation, or the gateway cannot place them.
    const entitiesOk =
      !Array.isArray(representations) ||
      data == null ||
      (Array.isArray((data as { _entities?: unknown })._entities) && (data as { _entities: unknown[] })._entities.length === representations.length);
    const dataOk = entitiesOk && (data === undefined || data === null || (typeof data === 'object' && !Array.isArray(data)));
    const errorsOk =
      errors === undefined ||
      (Array.isArray(errors) && errors.every((e) => typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string'));
    if (!dataOk || !errorsOk || (data == null && errors === undefined)) throw new SubgraphFault('malformed');
    return response;
  }
}

/**
 * A subgraph that refuses the request it was sent (HTTP 4xx with a GraphQL body: a value the
 * caller wrote that fails the subgraph's validation or variable coercion) has answered: its
 * errors, with their codes, go to the caller like any other GraphQL error. Only then is it not a
 * fault of the subgraph; a 4xx without GraphQL errors still is (see errorFromResponse).
 */
function answersRefusals(fetch: SubgraphFetch): SubgraphFetch {
  return async (url, init) => {
    const response = await fetch(url, init);
    if (response.status < 400 || response.status >= 500 || response.status === 401 || response.status === 403) return response;
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('application/json') && !type.startsWith('application/graphql-response+json')) return response;
    let body: unknown;
    try {
      body = JSON.parse(await response.text());
    } catch {
      return response;
    }
    const errors = (body as { errors?: unknown } | null)?.errors;
    if (!Array.isArray(errors) || errors.length === 0) return response;
    return { ...response, ok: true };
  };
}

/** Queries may be repeated; a mutation never is (it could be applied twice). */
function isQuery(options: OperationFetch): boolean {
  // The planner writes each fetch as `query …` or `mutation …`; reading the keyword spares a parse per fetch.
  return /^\s*(query\b|\{)/.test(options.request.query ?? '');
}

/** The fetch's operation: the planner's parsed document when it hands one over, else parsed from the text it sends. */
function operationOf(options: OperationFetch): OperationDefinitionNode | undefined {
  let document = options.document;
  if (!document && options.request.query) {
    try {
      document = parse(options.request.query);
    } catch {
      return undefined;
    }
  }
  return document?.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
}

/**
 * The answer for a fetch that failed: no data, and an error for each place that stays null — the
 * root fields of a root fetch, each entity of an entity fetch (the gateway maps
 * `_entities.<i>` to the entity's path in the response).
 */
function unavailable(subgraph: string, options: OperationFetch): GatewayGraphQLResponse {
  const message = `The ${subgraph} service is unavailable; the fields it provides are null. Try again later.`;
  const extensions = { code: 'SUBGRAPH_UNAVAILABLE', subgraph };
  const representations = options.request.variables?.representations;
  if (Array.isArray(representations)) {
    return { errors: representations.map((_, index) => ({ message, path: ['_entities', index], extensions })) } as GatewayGraphQLResponse;
  }
  const operation = operationOf(options);
  const rootKeys = (operation?.selectionSet.selections ?? []).flatMap((s) => (s.kind === Kind.FIELD ? [s.alias?.value ?? s.name.value] : []));
  if (rootKeys.length === 0) return { errors: [{ message, extensions }] } as GatewayGraphQLResponse;
  return { errors: rootKeys.map((key) => ({ message, path: [key], extensions })) } as GatewayGraphQLResponse;
}
