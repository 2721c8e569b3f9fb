/**
 * Managing webhook endpoints on behalf of a caller: everything is scoped to the caller's
 * organisation (another organisation's endpoint does not exist for it: NOT_FOUND), and an
 * endpoint is registered as the caller's own principal, which must carry a purpose of use.
 */
import { randomBytes } from 'node:crypto';
import { badInput, domainError, errorDetails, HttpError, notFound, serviceLogger, type Principal } from '@ketengraph/service-kit';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { LimitError } from '../../admission/limits/limits.js';
import type { WebhookConfig } from './config.js';
import { postSigned, receiverDispatcher } from './receiver.js';
import { checkFilter, checkSelection, checkUrl } from './selection.js';
import { generateSecret, signedHeaders } from './signing.js';
import type { DeadLetter, Endpoint, EndpointStatus, WebhookFilter, WebhookStore } from './store.js';

export const VERIFICATION_EVENT = 'webhook.verification';

const log = serviceLogger('gateway').child({ component: 'webhooks' });

/** The handshake failed; `reason` is a code (http_404, timeout, challenge_mismatch, …), never the receiver's answer. */
export function verificationFailed(reason: string): GraphQLError {
  return new GraphQLError(
    `The endpoint did not pass verification (${reason}): it must answer the signed webhook.verification POST with a 2xx status and the JSON body {"challenge": "<data.challenge>"}.`,
    { extensions: { code: 'WEBHOOK_VERIFICATION_FAILED', reason } },
  );
}

export interface RegisterInput {
  url: string;
  description?: string | null;
  filter?: Partial<Record<keyof WebhookFilter, unknown>> | null;
  selection: string;
}

export interface EndpointManagerOptions {
  store: WebhookStore;
  config: Pick<WebhookConfig, 'allowHttp' | 'allowPrivateAddresses' | 'timeoutMs' | 'secretOverlapHours'>;
  /** The gateway's API schema (selections and filters are checked against it). */
  apiSchema(): GraphQLSchema | undefined;
  /** The events module's own check that a selection can be resolved per event (throws a GraphQLError). */
  prepare(selection: string): unknown;
  /**
   * The gateway's admission of the selection, as of any operation (admission/admit.ts): a
   * registered document's id (`sha256:…`) becomes its text; an unregistered document is refused
   * (HttpError) when trusted documents are enforced; one over the request limits is refused (LimitError).
   */
  admit(schema: GraphQLSchema, selection: string): string;
  /** The newest event's sequence: an endpoint receives the events after the newest at its registration. */
  head(): Promise<bigint>;
  /** Enqueues the endpoint's events that enqueuers racing its registration may have passed (see WebhookDispatcher.backfill). */
  backfill(endpointId: string, fromSequence: bigint): Promise<void>;
  /** Wakes the delivery loop (an endpoint was resumed or a dead letter redelivered). */
  wake(): void;
}

export class EndpointManager {
  constructor(private readonly options: EndpointManagerOptions) {}

  private schema(): GraphQLSchema {
    const schema = this.options.apiSchema();
    if (!schema?.getSubscriptionType()?.getFields().placementChanged) {
      throw domainError(
        'DEPENDENCY_UNAVAILABLE',
        'Webhooks are not available until the gateway has loaded a supergraph with placementChanged; try again shortly.',
      );
    }
    return schema;
  }

  async register(caller: Principal, input: RegisterInput): Promise<{ endpoint: Endpoint; secret: string }> {
    const purpose = caller.purpose;
    if (purpose === null) {
      throw new GraphQLError('A webhook delivers patient data as you, so it needs a purpose of use; ask your identity provider for a token with a purpose.', {
        extensions: { code: 'PURPOSE_REQUIRED' },
      });
    }
    const schema = this.schema();
    const url = checkUrl(input.url, this.options.config.allowHttp, this.options.config.allowPrivateAddresses);
    const description = input.description ?? null;
    if (description !== null && description.length > 200) throw badInput('The description is longer than 200 characters.', 'description');
    const filter = checkFilter(schema, input.filter);
    let selection: string;
    try {
      selection = this.options.admit(schema, input.selection);
    } catch (error) {
      // The same code a request with that document gets (PERSISTED_QUERY_NOT_IN_LIST, QUERY_TOO_DEEP, ...).
      if (error instanceof HttpError || error instanceof LimitError)
        throw new GraphQLError(`The selection is refused: ${error.message}`, {
          extensions: { code: error instanceof HttpError ? error.code : error.extensions.code, field: 'selection' },
        });
      throw error;
    }
    checkSelection(schema, selection);
    try {
      this.options.prepare(selection);
    } catch (error) {
      throw badInput(`The selection cannot be resolved per event: ${error instanceof GraphQLError ? error.message : 'invalid'}`, 'selection');
    }
    const secret = generateSecret();
    const fromSequence = await this.options.head().catch((error: unknown) => {
      if (error instanceof GraphQLError) throw error;
      throw domainError(
        'DEPENDENCY_UNAVAILABLE',
        'The placement event log (plaatsing) could not be read, so the endpoint cannot be registered now; try again shortly.',
      );
    });
    const endpoint = await this.options.store.createEndpoint({ owner: { ...caller, purpose }, url, description, filter, selection, secret, fromSequence });
    return { endpoint, secret };
  }

  async get(caller: Principal, id: string): Promise<Endpoint> {
    const endpoint = await this.options.store.endpoint(id, caller.organisationId);
    if (!endpoint) throw notFound('Webhook endpoint', id);
    return endpoint;
  }

  /** The handshake: a signed `webhook.verification` with a random challenge the receiver must echo. */
  async verify(caller: Principal, id: string): Promise<Endpoint> {
    const endpoint = await this.get(caller, id);
    if (endpoint.status !== 'pending_verification') throw invalidTransition(endpoint.status, 'verified', 'it is verified already');
    const challenge = randomBytes(24).toString('base64url');
    const body = JSON.stringify({ type: VERIFICATION_EVENT, timestamp: new Date().toISOString(), data: { challenge } });
    const headers = signedHeaders(`msg_verify_${randomBytes(12).toString('hex')}`, body, await this.options.store.secrets(endpoint.id));
    const outcome = await postSigned(endpoint.url, body, headers, {
      timeoutMs: this.options.config.timeoutMs,
      readBody: true,
      dispatcher: receiverDispatcher(this.options.config.allowPrivateAddresses),
    });
    if (!outcome.ok) throw verificationFailed(outcome.error);
    if (echoedChallenge(outcome.body) !== challenge) throw verificationFailed('challenge_mismatch');
    const verified = await this.options.store.transition(id, caller.organisationId, ['pending_verification'], 'active');
    if (!verified) throw await this.refusal(caller, id, 'verified');
    // A safety net for a rare race (see backfill); the regular enqueuers cover the endpoint either way, so its failure is logged, not the caller's.
    await this.options
      .backfill(verified.id, verified.fromSequence)
      .catch((error: unknown) => log.warn({ endpointId: verified.id, ...errorDetails(error) }, 'webhook backfill at verification failed'));
    return verified;
  }

  async pause(caller: Principal, id: string): Promise<Endpoint> {
    return this.move(caller, id, ['active'], 'paused', 'paused');
  }

  async resume(caller: Principal, id: string): Promise<Endpoint> {
    const endpoint = await this.move(caller, id, ['paused'], 'active', 'resumed');
    this.options.wake();
    return endpoint;
  }

  async rotateSecret(caller: Principal, id: string): Promise<{ endpoint: Endpoint; secret: string; previousSecretValidUntil: Date | null }> {
    const secret = generateSecret();
    const hours = this.options.config.secretOverlapHours;
    if (!(await this.options.store.rotateSecret(id, caller.organisationId, secret, hours))) throw notFound('Webhook endpoint', id);
    const endpoint = await this.get(caller, id);
    return { endpoint, secret, previousSecretValidUntil: hours > 0 ? new Date(Date.now() + hours * 3_600_000) : null };
  }

  async delete(caller: Principal, id: string): Promise<string> {
    if (!(await this.options.store.deleteEndpoint(id, caller.organisationId))) throw notFound('Webhook endpoint', id);
    return id;
  }

  async deadLetters(caller: Principal, endpointId: string, first?: number | null, after?: string | null) {
    await this.get(caller, endpointId);
    return this.options.store.deadLetters(endpointId, caller.organisationId, first, after);
  }

  async redeliver(caller: Principal, deadLetterId: string): Promise<DeadLetter> {
    const result = await this.options.store.redeliver(deadLetterId, caller.organisationId);
    if (result === undefined) throw notFound('Dead letter', deadLetterId);
    if (result === 'already')
      throw domainError('INVALID_TRANSITION', 'This dead letter was redelivered already; if it failed again it is listed as a new dead letter.');
    this.options.wake();
    return result;
  }

  private async move(caller: Principal, id: string, from: EndpointStatus[], to: EndpointStatus, verb: string): Promise<Endpoint> {
    const moved = await this.options.store.transition(id, caller.organisationId, from, to);
    if (!moved) throw await this.refusal(caller, id, verb);
    return moved;
  }

  private async refusal(caller: Principal, id: string, verb: string): Promise<GraphQLError> {
    const current = await this.options.store.endpoint(id, caller.organisationId);
    return current ? invalidTransition(current.status, verb) : notFound('Webhook endpoint', id);
  }
}

function invalidTransition(status: EndpointStatus, verb: string, why?: string): GraphQLError {
  const hint: Record<EndpointStatus, string> = {
    pending_verification: 'it is pending verification; verify it first (verifyWebhookEndpoint)',
    active: 'it is active',
    paused: 'it is paused; resume it first (resumeWebhookEndpoint)',
  };
  return domainError('INVALID_TRANSITION', `The webhook endpoint cannot be ${verb}: ${why ?? hint[status]}.`, { status: status.toUpperCase() });
}

function echoedChallenge(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as { challenge?: unknown };
    return typeof parsed.challenge === 'string' ? parsed.challenge : undefined;
  } catch {
    return undefined;
  }
}
