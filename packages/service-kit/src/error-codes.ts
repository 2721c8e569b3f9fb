/**
 * The one list of error codes a client can branch on (`extensions.code`): what each means, the
 * HTTP status it comes with where the whole request is refused, and what the client should do.
 * Code that emits a code takes it from here (typed as `ErrorCode`), the README's table is
 * generated from it (`npm run docs`), and a test fails when the code base emits a code that is
 * not listed here or the README differs. Messages are for people and never carry personal data.
 */
export interface ErrorCodeEntry {
  /** HTTP status of the response when this code refuses the whole request; absent: 200 with the error at a field or operation. */
  readonly status?: number;
  /** What happened, for the README (Markdown). */
  readonly meaning: string;
  /** What the client should do about it (Markdown). */
  readonly action: string;
}

export const ERROR_CODES = {
  BAD_USER_INPUT: {
    meaning:
      'input is invalid (`extensions.field` names it, or `locations` the argument): a date that does not exist (`2024-02-30`) or is not written `YYYY-MM-DD` (a `DateTime` without a time zone), a variable whose value does not fit its type (HTTP 400; the gateway checks both before anything is planned), a `BSN` that is not nine digits passing the 11-check (the message never repeats it), a date in the future, a security level outside 1-5, a cursor this API did not hand out (or handed out to another caller), `first` above 100, text with a NUL character (HTTP 400)',
    action: 'correct the named input and send again; nothing was changed',
  },
  NOT_FOUND: {
    meaning:
      "the id does not exist: a mutation naming an unknown id (its message names the id), and a root query by id — `patient`, `trajectory`, `placement`, `provider`, `qualityReport`, `webhookEndpoint` (another organisation's endpoint does not exist for you) — answers `null` with `NOT_FOUND` at that field's path (\"No patient has this id.\", never the id). Access is decided first: a role that may not see the field gets `UNAUTHORIZED_FIELD_OR_TYPE` for a known and an unknown id alike, so the answer tells it nothing about existence; a caller whose grant depends on a relationship (a provider's own patients) gets an existing patient with the fields it may not see withheld, as before, and `NOT_FOUND` for an id that names nobody — ids are random and carry nothing. `patientByBsn` stays a search: `null` without an error when no patient in your reach has that BSN, so a BSN's existence is never revealed. `auditTrail(patientId:)` answers an empty trail for an id without records. Not a fault: it never counts towards a subgraph's breaker or `/ready`",
    action: 'check the id (ids are opaque: take them from an earlier answer); do not retry unchanged',
  },
  ALREADY_EXISTS: {
    meaning: 'a unique fact exists already (BSN, quality report for that provider and year)',
    action: 'read the existing record instead of creating it again',
  },
  UNAUTHENTICATED: {
    status: 401,
    meaning: 'no valid bearer token (see Authentication); no data is returned',
    action: 'obtain a fresh token from the identity provider and send it as `Authorization: Bearer …`',
  },
  REINDICATION_REQUIRED: {
    meaning: "a scaling decision (op-/afschalen) or phase change falls outside the trajectory indication's bounds",
    action: 'request a new indication first; nothing was changed',
  },
  INVALID_TRANSITION: {
    meaning:
      "a lifecycle step that is not allowed from the current state (placement state machine, closed trajectory, correcting a superseded CV entry, a webhook endpoint's status, a dead letter redelivered twice)",
    action: 'read the current state and choose a step allowed from it',
  },
  NO_CAPACITY: {
    meaning: 'no free place for that care type and security level at the provider',
    action: 'choose another provider (see `freeCapacity`) or wait for a place',
  },
  INDICATION_MISMATCH: {
    meaning: "a placement's care type or security level does not fit the indication",
    action: 'place within the indication, or request a new indication',
  },
  DEPENDENCY_UNAVAILABLE: {
    meaning:
      "a subgraph needed to check a change (indicatiestelling for placements, CV entries and handovers; plaatsing for scaling decisions and handovers) did not answer; nothing was changed; for a subscription: plaatsing's event log could not be read",
    action: 'retry later with backoff; the change was not made',
  },
  CURSOR_EXPIRED: {
    meaning: "a subscription's `after` cursor is older than the event retention (`EVENT_RETENTION_DAYS`)",
    action: 'read the current state again and subscribe without `after`',
  },
  SHUTTING_DOWN: {
    meaning: 'the gateway ended a subscription (SSE) because it restarts (WebSocket: close code 1012)',
    action: 'subscribe again with the last cursor',
  },
  SUBSCRIPTION_INTERRUPTED: {
    meaning: 'the gateway could not follow the event log without a gap',
    action: 'subscribe again with the last cursor',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    meaning: 'the request body is too large (`MAX_BODY_BYTES`)',
    action: 'send a smaller request (variables, not inlined data; fewer operations per batch)',
  },
  BAD_REQUEST: {
    status: 400,
    meaning: 'the request body is not JSON, or not a GraphQL request',
    action: 'send a JSON body `{ "query": …, "variables": … }`',
  },
  SUBGRAPH_UNAVAILABLE: {
    meaning:
      'a subgraph (`extensions.subgraph`) did not answer in time or properly; the fields it provides are `null` at `path`, the rest of the response is delivered (see Operations); a subscription ends with it when a change cannot be resolved (see [How a stream ends](#subscriptions))',
    action: 'use the rest of the response; ask again later for the missing fields',
  },
  QUERY_TOO_DEEP: {
    status: 400,
    meaning: 'the operation nests deeper than `MAX_DEPTH`; nothing is executed',
    action: 'split the operation or ask for less; the limits are in the configuration table',
  },
  TOO_MANY_ALIASES: {
    status: 400,
    meaning: 'the operation has more aliases than `MAX_ALIASES`; nothing is executed',
    action: 'split the operation or ask for less; the limits are in the configuration table',
  },
  TOO_MANY_TOKENS: {
    status: 400,
    meaning: 'the document has more lexical tokens than `MAX_TOKENS`; nothing is executed',
    action: 'split the operation or ask for less; the limits are in the configuration table',
  },
  TOO_MANY_DIRECTIVES: {
    status: 400,
    meaning: 'the operation has more directives than `MAX_DIRECTIVES`; nothing is executed',
    action: 'split the operation or ask for less; the limits are in the configuration table',
  },
  QUERY_TOO_COSTLY: {
    status: 400,
    meaning: 'the operation is estimated to cost more than `MAX_COST`; nothing is executed',
    action: 'split the operation or ask for less; the limits are in the configuration table',
  },
  LIST_TOO_LARGE: {
    status: 400,
    meaning: 'a `first`/`last` exceeds `MAX_LIST_SIZE`; nothing is executed',
    action: 'page with a smaller `first` and `after`',
  },
  BATCH_TOO_LARGE: {
    status: 400,
    meaning: 'an array body holds more operations than `MAX_BATCH_SIZE`',
    action: 'send fewer operations per request',
  },
  RATE_LIMITED: {
    status: 429,
    meaning: "the caller's organisation exceeded its rate",
    action: 'wait as long as `Retry-After` says, then try again',
  },
  PERSISTED_QUERY_NOT_FOUND: {
    status: 400,
    meaning: 'no registered operation has the `documentId` / `extensions.persistedQuery.sha256Hash` sent',
    action: 'send a registered document id, or the full document where trusted documents are off',
  },
  PERSISTED_QUERY_NOT_IN_LIST: {
    status: 400,
    meaning: 'trusted documents are on (production) and the document sent is not a registered one',
    action: 'use a registered operation (the trusted documents manifest), or register yours',
  },
  PERSISTED_QUERY_NOT_SUPPORTED: {
    status: 400,
    meaning: 'a hash alone was sent while automatic persisted queries are off (`AUTOMATIC_PERSISTED_QUERIES`)',
    action: 'send the full document, or a registered `documentId`',
  },
  OPERATION_RESOLUTION_FAILURE: {
    status: 400,
    meaning: 'the document holds several operations and `operationName` names none of them',
    action: 'set `operationName` to one of the operations in the document',
  },
  GRAPHQL_PARSE_FAILED: {
    status: 400,
    meaning: 'the document is not GraphQL; nothing is executed',
    action: 'fix the document (the message says where)',
  },
  GRAPHQL_VALIDATION_FAILED: {
    status: 400,
    meaning: 'the document asks for what the schema does not have (with "did you mean" suggestions outside production); nothing is executed',
    action: 'fix the document against the schema',
  },
  FORBIDDEN: {
    meaning:
      'a change the write rules do not allow this caller (role, purpose, or relationship to the patient or placement; see [who may change what](#authorization-who-may-change-what)); `extensions.reason` says which; nothing was changed',
    action: 'do not retry; the change needs another role, purpose or relationship',
  },
  UNAUTHORIZED_FIELD_OR_TYPE: {
    meaning:
      'the field at `path` is withheld from this caller (role, purpose or relationship), or it is patient data the access policy does not classify yet (withheld from everyone until it is; `npm run policy` names such fields); it is `null`',
    action: 'use the rest of the response; ask for the field only with a role and purpose that may see it',
  },
  PURPOSE_REQUIRED: {
    status: 403,
    meaning: 'patient data was asked for without a purpose of use in the token; nothing is executed (the attempt is in the access log)',
    action: 'obtain a token that carries the purpose of use',
  },
  AUDIT_UNAVAILABLE: {
    status: 503,
    meaning: 'the access log could not be written, so no data is returned',
    action: 'retry later with backoff',
  },
  WEBHOOK_VERIFICATION_FAILED: {
    meaning:
      'the receiver did not answer the webhook handshake correctly; `extensions.reason` says how (`http_<status>`, `timeout`, `connection_refused`, `connection_reset`, `non_public_address`, `challenge_mismatch`, …)',
    action: 'fix the receiver (see Webhooks) and register or verify again',
  },
  EPD_UNAVAILABLE: {
    meaning:
      "a provider's EPD (`extensions.provider`; `extensions.reason`: `timeout`, `unreachable`, `non_public_address`, `redirected`, `unauthorized`, `token_refused`, `http_status`, `operation_outcome`, `malformed`, `too_large`, `foreign_link`, `too_many_pages`, `bsn_unavailable`; `relationship_unavailable` with `provider: null` when plaatsing could not say whose EPDs to read) could not be read just now: the CV field at `path` answers with what was imported from it before (see [Connecting an EPD](#connecting-an-epd-fhir-r4))",
    action: 'use what the CV holds; read again later for what the EPD adds',
  },
  INTERNAL_SERVER_ERROR: {
    meaning: 'an unexpected fault; the message carries the request id (`extensions.requestId`) to quote, details only in the server log, never in the response',
    action: 'report the request id to the operator',
  },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The HTTP status a code refuses a whole request with (400, 401, 413, …); undefined for codes answered at a field. */
export function httpStatusOf(code: ErrorCode): number | undefined {
  return (ERROR_CODES[code] as ErrorCodeEntry).status;
}

/** A response body refusing the whole request with one coded error. */
export function errorBody(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): { errors: { message: string; extensions: Record<string, unknown> }[] } {
  return { errors: [{ message, extensions: { code, ...extensions } }] };
}
