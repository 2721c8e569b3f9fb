/**
 * Simulated EPDs (development and tests only): FHIR R4 servers that behave as real ones do where
 * ketengraph depends on it — SMART Backend Services token endpoint (the client assertion is
 * verified against ketengraph's public key), 401 with an OperationOutcome for a missing or wrong
 * token, search by BSN identifier and by patient with `_lastUpdated`, `_count` and `next` links,
 * versioned resources (meta.versionId, meta.lastUpdated) and OperationOutcome errors for what
 * they do not support. `handle` speaks the Fetch API, so tests mount it in msw and `npm start`
 * serves it over node:http (startSimulatedEpdServer).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addDays, generatePatients, generateProviders, Random, type SeedPatient } from '@ketengraph/seed-data';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { BSN_SYSTEM, CLIENT_ASSERTION_TYPE } from './fhir-client.js';

type Json = Record<string, unknown>;
export interface FhirResource extends Json {
  resourceType: string;
  id: string;
  meta?: { versionId?: string; lastUpdated?: string };
}

const SEARCHABLE: Record<string, string[]> = {
  Patient: ['identifier'],
  RiskAssessment: ['patient', 'subject'],
  Condition: ['patient', 'subject'],
  Flag: ['patient', 'subject'],
  AdverseEvent: ['subject'],
  EpisodeOfCare: ['patient'],
};
const CONTROL = new Set(['_count', '_lastUpdated', '_offset', '_format']);

const outcome = (status: number, code: string, diagnostics: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] }), {
    status,
    headers: { 'content-type': 'application/fhir+json', ...headers },
  });

export interface SimulatedEpdOptions {
  /** Base URL of the FHIR API, e.g. http://127.0.0.1:4010/fhir/<provider>; the token endpoint is `<base>/auth/token`. */
  baseUrl: string;
  /** The client id ketengraph uses here, and its public key(s). */
  clientId: string;
  clientJwks: JSONWebKeySet;
  resources?: FhirResource[];
}

export class SimulatedEpd {
  readonly baseUrl: string;
  readonly tokenUrl: string;
  private readonly versions = new Map<string, FhirResource[]>();
  private readonly tokens = new Map<string, number>();
  private readonly keys: ReturnType<typeof createLocalJWKSet>;
  /** Requests served, for tests: method, path and query (no bodies). */
  readonly requests: URL[] = [];

  constructor(private readonly options: SimulatedEpdOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.tokenUrl = `${this.baseUrl}/auth/token`;
    this.keys = createLocalJWKSet(options.clientJwks);
    for (const resource of options.resources ?? []) this.put(resource);
  }

  /** Stores a resource as its next version (versionId one higher; lastUpdated as given or now). */
  put(resource: FhirResource): FhirResource {
    const key = `${resource.resourceType}/${resource.id}`;
    const history = this.versions.get(key) ?? [];
    const stored: FhirResource = {
      ...resource,
      meta: { ...resource.meta, versionId: String(history.length + 1), lastUpdated: resource.meta?.lastUpdated ?? new Date().toISOString() },
    };
    this.versions.set(key, [...history, stored]);
    return stored;
  }

  /** Drops every issued access token (as an authorization server that rotated its keys). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    this.requests.push(url);
    if (!url.href.startsWith(`${this.baseUrl}/`)) return outcome(404, 'not-found', 'Unknown base URL.');
    const path = url.pathname.slice(new URL(this.baseUrl).pathname.length).replace(/^\/+/, '');
    if (path === 'auth/token') return request.method === 'POST' ? this.token(request) : outcome(405, 'not-supported', 'POST only.');
    const bearer = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
    const expiry = bearer ? this.tokens.get(bearer) : undefined;
    if (!expiry || expiry < Date.now()) return outcome(401, 'login', 'A valid access token is required.', { 'www-authenticate': 'Bearer realm="fhir"' });
    // Search by POST [type]/_search: the parameters in the body, as FHIR allows (and as ketengraph sends the BSN).
    const postSearch = /^([A-Za-z]+)\/_search$/.exec(path);
    if (request.method === 'POST' && postSearch) {
      if (!(request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded'))
        return outcome(415, 'not-supported', '_search takes application/x-www-form-urlencoded.');
      const type = postSearch[1]!;
      if (!(type in SEARCHABLE)) return outcome(404, 'not-supported', 'Resource type not supported.');
      const effective = new URL(`${this.baseUrl}/${type}`);
      for (const [name, value] of new URLSearchParams(await request.text())) effective.searchParams.append(name, value);
      return this.search(type, effective);
    }
    if (request.method !== 'GET') return outcome(405, 'not-supported', 'This server is read-only.');
    if (path === 'metadata') return json({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'] });
    const [type, id, ...rest] = path.split('/');
    if (!type || !(type in SEARCHABLE)) return outcome(404, 'not-supported', 'Resource type not supported.');
    if (id) {
      const history = this.versions.get(`${type}/${id}`);
      if (!history || rest.length) return outcome(404, 'not-found', 'Resource not found.');
      return json(history[history.length - 1]!);
    }
    return this.search(type, url);
  }

  private async token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text());
    const error = (description: string) =>
      new Response(JSON.stringify({ error: 'invalid_client', error_description: description }), {
        status: 401,
        headers: { 'content-type': 'application/json' },
      });
    if (form.get('grant_type') !== 'client_credentials' || form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE)
      return error('Unsupported grant or assertion type.');
    try {
      await jwtVerify(form.get('client_assertion') ?? '', this.keys, {
        issuer: this.options.clientId,
        subject: this.options.clientId,
        audience: this.tokenUrl,
        maxTokenAge: '5m',
      });
    } catch {
      return error('Client assertion not valid for this client.');
    }
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, Date.now() + 300_000);
    return new Response(JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: 300, scope: form.get('scope') ?? '' }), {
      headers: { 'content-type': 'application/json' },
    });
  }

  private search(type: string, url: URL): Response {
    for (const name of url.searchParams.keys()) {
      if (!CONTROL.has(name) && !SEARCHABLE[type]!.includes(name))
        return outcome(400, 'not-supported', `Search parameter ${name} is not supported for ${type}.`);
    }
    const count = Math.min(Math.max(Number(url.searchParams.get('_count') ?? 20) || 20, 1), 100);
    const offset = Math.max(Number(url.searchParams.get('_offset') ?? 0) || 0, 0);
    const lastUpdated = url.searchParams.get('_lastUpdated');
    let since: number | null = null;
    if (lastUpdated) {
      const match = /^(ge|gt)(.+)$/.exec(lastUpdated);
      const time = match ? Date.parse(match[2]!) : NaN;
      if (!match || Number.isNaN(time)) return outcome(400, 'invalid', '_lastUpdated takes ge or gt with an instant.');
      since = match[1] === 'ge' ? time : time + 1;
    }
    const patients = (url.searchParams.get('patient') ?? url.searchParams.get('subject'))?.split(',').map((ref) => ref.replace(/^Patient\//, ''));
    const identifier = url.searchParams.get('identifier');
    const current = [...this.versions.values()].map((history) => history[history.length - 1]!).filter((resource) => resource.resourceType === type);
    const matches = current
      .filter((resource) => {
        if (since !== null && Date.parse(resource.meta!.lastUpdated!) < since) return false;
        if (identifier) {
          const [system, value] = identifier.includes('|') ? identifier.split('|') : [null, identifier];
          return ((resource.identifier as { system?: string; value?: string }[] | undefined) ?? []).some(
            (id) => id.value === value && (!system || id.system === system),
          );
        }
        if (patients) {
          const subject = ((resource.subject ?? resource.patient) as { reference?: string } | undefined)?.reference?.replace(/^Patient\//, '');
          return subject !== undefined && patients.includes(subject);
        }
        return true;
      })
      .sort((a, b) => a.meta!.lastUpdated!.localeCompare(b.meta!.lastUpdated!) || a.id.localeCompare(b.id));
    const page = matches.slice(offset, offset + count);
    const link = (at: number) => {
      const next = new URL(url);
      next.searchParams.set('_offset', String(at));
      next.searchParams.set('_count', String(count));
      return next.href;
    };
    return json({
      resourceType: 'Bundle',
      type: 'searchset',
      total: matches.length,
      link: [{ relation: 'self', url: url.href }, ...(offset + count < matches.length ? [{ relation: 'next', url: link(offset + count) }] : [])],
      entry: page.map((resource) => ({ fullUrl: `${this.baseUrl}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' } })),
    });
  }
}

const json = (body: Json) => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/fhir+json' } });

// ---------------------------------------------------------------------------------------------
// The development system's EPDs: deterministic records for the patients of a few seeded providers.

/**
 * GGz Centraal FPC Utrecht 4 (the explorer's "provider with patients", seed patient 1), the current
 * providers of seed patient 0 (the explorer's example patient), then those with the most current patients.
 */
export function simulatedEpdProviders(seed: number, patients: number, count = 3): string[] {
  const providers = generateProviders(seed);
  const current = new Map<string, number>();
  let example: string[] = [];
  for (const patient of generatePatients(seed, patients, providers)) {
    if (patient.index === 0) example = currentProviders(patient);
    for (const providerId of currentProviders(patient)) current.set(providerId, (current.get(providerId) ?? 0) + 1);
  }
  const named = providers.find((provider) => provider.name === 'GGz Centraal FPC Utrecht 4')?.id;
  const busiest = [...current].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([id]) => id);
  return [...new Set([...(named ? [named] : []), ...example, ...busiest])].slice(0, count);
}

function currentProviders(patient: SeedPatient): string[] {
  return patient.trajectories.flatMap((trajectory) =>
    trajectory.placements
      .filter((placement) => ['REQUESTED', 'INTAKE', 'ACCEPTED', 'DECIDED', 'ADMITTED'].includes(placement.status))
      .map((placement) => placement.providerId),
  );
}

const INSTRUMENT_NAMES = ['HCR-20V3', 'HKT-R', 'FARE', 'SAPROF', 'Static-99R', 'B-SAFER'];
const LEVELS = ['low', 'moderate', 'high', 'certain'];
const DIAGNOSES = [
  ['F60.2', 'Antisociale persoonlijkheidsstoornis'],
  ['F20.0', 'Schizofrenie, paranoïde type'],
  ['F10.2', 'Stoornis in alcoholgebruik'],
  ['F43.1', 'Posttraumatische stressstoornis'],
] as const;
const SIGNS = ['Trekt zich terug op kamer', 'Slaapt slecht, piekert', 'Verhoogde prikkelbaarheid', 'Zoekt contact met oud netwerk', 'Weigert medicatie'];
const EVENTS = [
  ['agressie-verbaal', 'Schold begeleider uit'],
  ['agressie-fysiek', 'Duwde medepatiënt'],
  ['middelengebruik', 'Positieve urinecontrole'],
  ['onttrekking', 'Te laat terug van verlof'],
] as const;
const TREATMENTS = [
  ['SCHEMATHERAPIE', 'Schematherapie'],
  ['AGRESSIEREGULATIE', 'Agressieregulatietraining'],
  ['EMDR', 'EMDR'],
  ['FACT', 'FACT-behandeling'],
] as const;

/** Every provider's EPD contents: Patient (by BSN) plus forensic records, versions included, for its current patients. */
export function simulatedEpdRecords(seed: number, patients: number, providerIds: readonly string[]): Map<string, FhirResource[][]> {
  const records = new Map<string, FhirResource[][]>(providerIds.map((id) => [id, []]));
  for (const patient of generatePatients(seed, patients, generateProviders(seed))) {
    for (const providerId of new Set(currentProviders(patient))) {
      const list = records.get(providerId);
      if (!list) continue;
      const random = new Random(seed, `epd:${providerId}:${patient.id}`);
      const start = patient.trajectories.flatMap((t) => t.placements).find((p) => p.providerId === providerId)?.steps[0]?.at ?? patient.registeredAt;
      // Seeded dates, but never in the future: an EPD records what happened.
      const day = (offset: number) => new Date(Math.min(addDays(start, offset).getTime(), Date.now() - 86_400_000)).toISOString().slice(0, 10);
      const at = (offset: number) => `${day(offset)}T09:00:00.000Z`;
      const fhirId = `pat-${patient.id.slice(0, 8)}`;
      const subject = { reference: `Patient/${fhirId}` };
      // Each inner list is one resource's versions, oldest first.
      list.push([
        {
          resourceType: 'Patient',
          id: fhirId,
          meta: { lastUpdated: at(0) },
          identifier: [{ system: BSN_SYSTEM, value: patient.bsn }],
          name: [{ family: patient.familyName, given: [patient.givenName] }],
          birthDate: patient.birthDate.toISOString().slice(0, 10),
        },
      ]);
      const risk = (level: string, offset: number): FhirResource => ({
        resourceType: 'RiskAssessment',
        id: `ra-${patient.id.slice(0, 8)}`,
        meta: { lastUpdated: at(offset + 1) },
        status: 'final',
        subject,
        method: { text: random.pick(INSTRUMENT_NAMES) },
        occurrenceDateTime: day(offset),
        basis: [{ display: 'middelengebruik' }, { display: 'impulsiviteit' }],
        prediction: [
          { outcome: { text: 'Geweld' }, qualitativeRisk: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: level }] } },
        ],
        note: [{ text: 'Beschermende factor: dagbesteding' }],
      });
      const first = risk(random.pick(LEVELS), 14);
      list.push(random.chance(0.4) ? [first, { ...risk(random.pick(LEVELS), 60), method: first.method }] : [first]);
      const [code, text] = random.pick(DIAGNOSES);
      list.push([
        {
          resourceType: 'Condition',
          id: `cond-${patient.id.slice(0, 8)}`,
          meta: { lastUpdated: at(8) },
          subject,
          recordedDate: day(7),
          onsetDateTime: day(7),
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
          verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
          code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code, display: text }], text },
        },
      ]);
      // A problem recorded only in SNOMED: the CV takes ICD-10/DSM classifications, so this one is reported as unmapped.
      if (random.chance(0.5))
        list.push([
          {
            resourceType: 'Condition',
            id: `cond2-${patient.id.slice(0, 8)}`,
            meta: { lastUpdated: at(9) },
            subject,
            recordedDate: day(9),
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
            code: { coding: [{ system: 'http://snomed.info/sct', code: '66214007', display: 'Substance abuse' }], text: 'Middelenmisbruik' },
          },
        ]);
      list.push([
        {
          resourceType: 'Flag',
          id: `flag-${patient.id.slice(0, 8)}`,
          meta: { lastUpdated: at(20) },
          status: 'active',
          subject,
          period: { start: day(20) },
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'behavioral' }] }],
          code: { text: random.pick(SIGNS) },
        },
      ]);
      for (let i = 0; i < random.int(0, 2); i++) {
        const [eventCode, eventText] = random.pick(EVENTS);
        list.push([
          {
            resourceType: 'AdverseEvent',
            id: `ae-${i}-${patient.id.slice(0, 8)}`,
            meta: { lastUpdated: at(30 + i * 10) },
            actuality: 'actual',
            subject,
            date: day(30 + i * 10),
            event: { coding: [{ code: eventCode }], text: eventText },
            severity: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/adverse-event-severity', code: random.pick(['mild', 'moderate', 'severe']) }],
            },
          },
        ]);
      }
      const [treatmentCode, treatmentText] = random.pick(TREATMENTS);
      list.push([
        {
          resourceType: 'EpisodeOfCare',
          id: `eoc-${patient.id.slice(0, 8)}`,
          meta: { lastUpdated: at(3) },
          status: 'active',
          patient: subject,
          period: { start: day(3) },
          type: [{ coding: [{ code: treatmentCode, display: treatmentText }] }],
        },
      ]);
    }
  }
  return records;
}

export interface SimulatedEpdServer {
  url: string;
  epds: Map<string, SimulatedEpd>;
  close(): Promise<void>;
}

/** One HTTP server for several simulated EPDs, each under `/fhir/<providerId>`. */
export async function startSimulatedEpdServer(options: {
  port: number;
  host?: string;
  clientId: string;
  clientJwks: JSONWebKeySet;
  records: Map<string, FhirResource[][]>;
}): Promise<SimulatedEpdServer> {
  const host = options.host ?? '127.0.0.1';
  const epds = new Map<string, SimulatedEpd>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? host}`);
      if (url.pathname === '/ready' || url.pathname === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      const providerId = /^\/fhir\/([^/]+)\//.exec(url.pathname)?.[1];
      const epd = providerId ? epds.get(providerId) : undefined;
      const headers = new Headers(
        Object.entries(req.headers).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value] as [string, string]] : [])),
      );
      const request = new Request(url, {
        method: req.method,
        headers,
        ...(req.method !== 'GET' && req.method !== 'HEAD' ? { body: Buffer.concat(chunks) } : {}),
      });
      void (epd ? epd.handle(request) : Promise.resolve(outcome(404, 'not-found', 'No EPD here.'))).then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, resolve);
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  for (const [providerId, resources] of options.records) {
    const epd = new SimulatedEpd({ baseUrl: `${url}/fhir/${providerId}`, clientId: options.clientId, clientJwks: options.clientJwks });
    for (const versions of resources) for (const version of versions) epd.put(version);
    epds.set(providerId, epd);
  }
  return { url, epds, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
