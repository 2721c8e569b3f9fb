/**
 * A FHIR R4 client for one provider's EPD: authentication (SMART Backend Services: a client
 * assertion signed with ketengraph's key for an access token; or mutual TLS), the patient by BSN,
 * and searches with `_lastUpdated`, `_count` and the Bundle's `next` links. Every failure is an
 * EpdError with a reason code; nothing an EPD answers is ever put into a message or a log line.
 */
import { randomUUID } from 'node:crypto';
import { publicOnlyLookup } from '@ketengraph/service-kit';
import { importJWK, SignJWT, type JWK } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import type { EpdResourceType } from './mapping.js';

export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** SMART v1 system scopes for what ketengraph reads; a configured source may narrow them. */
export const DEFAULT_SCOPE =
  'system/Patient.read system/RiskAssessment.read system/Condition.read system/Flag.read system/AdverseEvent.read system/EpisodeOfCare.read';

export type EpdAuth =
  | { kind: 'SMART_BACKEND_SERVICES'; tokenUrl: string; clientId: string; scope: string; signingKey: JWK }
  | { kind: 'MUTUAL_TLS'; cert: string; key: string; ca?: string };

export interface EpdSource {
  providerId: string;
  /** Without a trailing slash. */
  fhirBaseUrl: string;
  auth: EpdAuth;
  origin: 'CONFIGURATION' | 'REGISTRATION';
  registeredAt: Date;
}

export type EpdFailure =
  | 'timeout'
  | 'unreachable'
  | 'non_public_address'
  | 'redirected'
  | 'unauthorized'
  | 'token_refused'
  | 'http_status'
  | 'operation_outcome'
  | 'malformed'
  | 'too_large'
  | 'foreign_link'
  | 'too_many_pages';

export class EpdError extends Error {
  override name = 'EpdError';
  constructor(
    readonly reason: EpdFailure,
    readonly detail?: string,
  ) {
    super(`EPD request failed: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

export interface FhirClientOptions {
  pageSize: number;
  maxPages: number;
  maxResponseBytes: number;
  /** false (production): a name that resolves to a loopback, private or link-local address is refused when connecting. */
  allowPrivateAddresses: boolean;
}

/** Which search parameter names the patient, per resource type (FHIR R4 search parameters). */
const PATIENT_PARAMETER: Record<EpdResourceType, string> = {
  RiskAssessment: 'patient',
  Condition: 'patient',
  Flag: 'patient',
  AdverseEvent: 'subject',
  EpisodeOfCare: 'patient',
};

type Fetch = (url: string, init: { method?: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<Response>;

export class FhirClient {
  private token: { value: string; expiresAt: number } | null = null;
  private readonly fetch: Fetch;
  private readonly base: URL;

  constructor(
    readonly source: EpdSource,
    private readonly options: FhirClientOptions,
  ) {
    this.base = new URL(`${source.fhirBaseUrl}/`);
    // Redirects are not followed: an EPD cannot send ketengraph (or its token) elsewhere.
    const tls = source.auth.kind === 'MUTUAL_TLS' ? { cert: source.auth.cert, key: source.auth.key, ...(source.auth.ca ? { ca: source.auth.ca } : {}) } : {};
    if (source.auth.kind === 'MUTUAL_TLS' || !options.allowPrivateAddresses) {
      const dispatcher = new Agent({ connect: { ...tls, ...(options.allowPrivateAddresses ? {} : { lookup: publicOnlyLookup('EPD') }) } });
      this.fetch = (url, init) => undiciFetch(url, { ...init, redirect: 'manual', dispatcher }) as unknown as Promise<Response>;
    } else {
      this.fetch = (url, init) => globalThis.fetch(url, { ...init, redirect: 'manual' });
    }
  }

  /**
   * The FHIR ids of the patient with this BSN (normally one; an EPD may hold duplicates). Searched
   * with POST [base]/Patient/_search, so the BSN is in the body, never in a URL a proxy or the EPD's
   * access log keeps.
   */
  async patientIds(bsn: string, signal: AbortSignal): Promise<string[]> {
    const url = new URL('Patient/_search', this.base);
    const form = new URLSearchParams({ identifier: `${BSN_SYSTEM}|${bsn}` });
    const ids: string[] = [];
    for await (const resources of this.pages(url, signal, form)) {
      for (const resource of resources) {
        const patient = resource as { resourceType?: unknown; id?: unknown };
        if (patient.resourceType === 'Patient' && typeof patient.id === 'string' && /^[A-Za-z0-9\-.]{1,64}$/.test(patient.id)) ids.push(patient.id);
      }
    }
    return ids;
  }

  /** Every page of one resource type for these patients, changed at or after `since` when given. */
  search(resourceType: EpdResourceType, patientIds: string[], since: Date | null, signal: AbortSignal): AsyncGenerator<unknown[]> {
    const url = new URL(resourceType, this.base);
    url.searchParams.set(PATIENT_PARAMETER[resourceType], patientIds.map((id) => `Patient/${id}`).join(','));
    if (since) url.searchParams.set('_lastUpdated', `ge${since.toISOString()}`);
    url.searchParams.set('_count', String(this.options.pageSize));
    return this.pages(url, signal);
  }

  /** Follows `next` links, but only within the EPD's own base URL: the access token goes nowhere else. */
  private async *pages(first: URL, signal: AbortSignal, form?: URLSearchParams): AsyncGenerator<unknown[]> {
    let url: URL | null = first;
    for (let page = 0; url; page++) {
      if (page >= this.options.maxPages) throw new EpdError('too_many_pages');
      const bundle = await this.getJson(url, signal, page === 0 ? form : undefined);
      if (!isSearchBundle(bundle)) throw new EpdError('malformed', 'not a searchset Bundle');
      // `include` entries (e.g. _include=…) are context, not results; outcome entries are warnings.
      yield (bundle.entry ?? []).filter((entry) => entry?.search?.mode === undefined || entry.search.mode === 'match').map((entry) => entry?.resource);
      const next = bundle.link?.find((link) => link?.relation === 'next')?.url;
      url = next ? this.sameOrigin(next) : null;
    }
  }

  private sameOrigin(link: string): URL {
    let url: URL;
    try {
      url = new URL(link, this.base);
    } catch {
      throw new EpdError('malformed', 'next link is not a URL');
    }
    if (url.origin !== this.base.origin || !url.pathname.startsWith(this.base.pathname)) throw new EpdError('foreign_link');
    return url;
  }

  /** GET, or with a form the search as POST _search. */
  private async getJson(url: URL, signal: AbortSignal, form?: URLSearchParams, retried = false): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/fhir+json' };
    if (this.source.auth.kind === 'SMART_BACKEND_SERVICES') headers.authorization = `Bearer ${await this.accessToken(signal)}`;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await this.send(url.href, { headers, signal, ...(form ? { method: 'POST', body: form.toString() } : {}) });
    if ((response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect') {
      discard(response);
      throw new EpdError('redirected', `HTTP ${response.status}`);
    }
    if (response.status === 401 && this.source.auth.kind === 'SMART_BACKEND_SERVICES' && !retried) {
      // The token may have been revoked or expired early: one fresh token, then give up.
      discard(response);
      this.token = null;
      return this.getJson(url, signal, form, true);
    }
    if (response.status === 401 || response.status === 403) {
      discard(response);
      throw new EpdError('unauthorized', `HTTP ${response.status}`);
    }
    if (!response.ok) {
      const outcome = (await this.readJson(response).catch(() => null)) as { resourceType?: unknown; issue?: { code?: unknown }[] } | null;
      if (outcome?.resourceType === 'OperationOutcome')
        throw new EpdError('operation_outcome', `HTTP ${response.status}, issue ${String(outcome.issue?.[0]?.code ?? 'unknown')}`);
      throw new EpdError('http_status', `HTTP ${response.status}`);
    }
    return this.readJson(response);
  }

  private async accessToken(signal: AbortSignal): Promise<string> {
    const auth = this.source.auth;
    if (auth.kind !== 'SMART_BACKEND_SERVICES') throw new Error('accessToken called for a non-SMART source');
    if (this.token && this.token.expiresAt > Date.now()) return this.token.value;
    const key = await importJWK(auth.signingKey, auth.signingKey.alg);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: auth.signingKey.alg!, kid: auth.signingKey.kid, typ: 'JWT' })
      .setIssuer(auth.clientId)
      .setSubject(auth.clientId)
      .setAudience(auth.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: auth.scope,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
    });
    const response = await this.send(auth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      signal,
    });
    if (!response.ok) {
      discard(response);
      throw new EpdError('token_refused', `HTTP ${response.status}`);
    }
    const token = (await this.readJson(response)) as { access_token?: unknown; expires_in?: unknown } | null;
    if (typeof token?.access_token !== 'string' || !token.access_token) throw new EpdError('malformed', 'token response without access_token');
    const lifetime = typeof token.expires_in === 'number' && token.expires_in > 0 ? token.expires_in : 300;
    // Renewed a little early, so a token never expires on its way to the EPD.
    this.token = { value: token.access_token, expiresAt: Date.now() + Math.max(lifetime - 30, lifetime / 2) * 1000 };
    return token.access_token;
  }

  private async send(url: string, init: { method?: string; headers: Record<string, string>; body?: string; signal: AbortSignal }): Promise<Response> {
    try {
      return await this.fetch(url, init);
    } catch (error) {
      if (init.signal.aborted) throw new EpdError('timeout');
      const code = (error as { cause?: { code?: string } }).cause?.code;
      throw new EpdError(code === 'ERR_NON_PUBLIC_ADDRESS' ? 'non_public_address' : 'unreachable', code);
    }
  }

  /** The body as JSON, at most maxResponseBytes of it. */
  private async readJson(response: Response): Promise<unknown> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body ?? []) {
        size += (chunk as Uint8Array).byteLength;
        if (size > this.options.maxResponseBytes) throw new EpdError('too_large');
        chunks.push(chunk as Uint8Array);
      }
    } catch (error) {
      if (error instanceof EpdError) throw error;
      throw new EpdError((error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable');
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new EpdError('malformed', 'not JSON');
    }
  }
}

/** An answer whose body is not needed: released without waiting for it. */
function discard(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

interface SearchBundle {
  resourceType: 'Bundle';
  type: string;
  link?: { relation?: string; url?: string }[];
  entry?: { resource?: unknown; search?: { mode?: string } }[];
}

function isSearchBundle(value: unknown): value is SearchBundle {
  const bundle = value as SearchBundle | null;
  return (
    typeof bundle === 'object' &&
    bundle !== null &&
    bundle.resourceType === 'Bundle' &&
    bundle.type === 'searchset' &&
    (bundle.entry === undefined || Array.isArray(bundle.entry)) &&
    (bundle.link === undefined || Array.isArray(bundle.link))
  );
}
