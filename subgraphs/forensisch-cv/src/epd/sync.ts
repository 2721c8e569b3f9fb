/**
 * When ketengraph reads EPDs (README: "Connecting an EPD"): on read, with a freshness bound. A
 * read of a patient's CV that the caller may see asks plaatsing which providers have the patient
 * as their own patient (an open request, an active placement, or one that ended within the
 * handover period — so a transfer's old provider is still read during the handover), and for
 * those with an EPD whose last read of these resource types is older than EPD_FRESHNESS_SECONDS,
 * reads what changed since (_lastUpdated) with the patient's BSN from indicatiestelling. Both are
 * asked with the caller's forwarded gateway token: the law applies as to any other read.
 *
 * A read waits at most EPD_READ_DEADLINE_MS for an EPD; after that it answers with what the CV
 * holds plus an EPD_UNAVAILABLE error naming the provider, while the import finishes in the
 * background (bounded by EPD_TIMEOUT_MS) for the next read. An EPD that failed is not asked again
 * for EPD_RETRY_AFTER_MS (reads answer EPD_UNAVAILABLE at once meanwhile).
 */
import {
  argumentRequirement,
  counter,
  latencyHistogram,
  loadAccessPolicy,
  serviceLogger,
  type ErrorCode,
  envSchema,
  envVariable,
  type EnvSpec,
  optionalEnvVariable,
  readEnv,
  type RequestAccess,
} from '@ketengraph/service-kit';
import DataLoader from 'dataloader';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { CvEntryKind } from '../domain/entries.js';
import { EpdError, FhirClient, type EpdFailure, type EpdSource } from './fhir-client.js';
import { mapResource, resourceTypesFor, type EpdResourceType } from './mapping.js';
import { loadConfiguredSources, registeredSources, type RegistrationRules } from './sources.js';
import { importPage, recordSynced, type ImportCounts } from './store.js';

const log = serviceLogger('forensisch-cv');
// Labels are codes only: which provider failed is in the log line.
const imports = counter('ketengraph_epd_imports_total', "Imports from providers' EPDs, by outcome (ok or the failure reason).", ['outcome']);
const importedResources = counter(
  'ketengraph_epd_resources_total',
  'EPD resource versions seen by imports: imported (a new CV version), unchanged, unmapped.',
  ['result'],
);
const importLatency = latencyHistogram('ketengraph_epd_import_duration_seconds', 'Time one import from an EPD took, successful or not.', []);
const readProblems = counter('ketengraph_epd_read_problems_total', 'CV reads answered with EPD_UNAVAILABLE, by reason.', ['reason']);

export interface EpdSettings extends RegistrationRules {
  sourcesFile: string | undefined;
  readDeadlineMs: number;
  timeoutMs: number;
  freshnessMs: number;
  retryAfterMs: number;
  pageSize: number;
  maxPages: number;
  maxResponseBytes: number;
  /** Imports running at once per EPD; more wait their turn (a page of 100 patients does not open 100 searches at once). */
  concurrency: number;
}

/** forensisch-cv's EPD variables (README: configuration); the address rules close under NODE_ENV=production. */
export const EPD_ENV = {
  EPD_SOURCES_FILE: optionalEnvVariable(envSchema.text()),
  EPD_READ_DEADLINE_MS: envVariable(envSchema.integer(1), 1500, '`1500`'),
  EPD_TIMEOUT_MS: envVariable(envSchema.integer(1), 10_000, '`10000`'),
  EPD_FRESHNESS_SECONDS: envVariable(envSchema.integer(0), 300, '`300`'),
  EPD_RETRY_AFTER_MS: envVariable(envSchema.integer(0), 30_000, '`30000`'),
  EPD_PAGE_SIZE: envVariable(envSchema.integer(1), 50, '`50`'),
  EPD_MAX_PAGES: envVariable(envSchema.integer(1), 20, '`20`'),
  EPD_MAX_RESPONSE_BYTES: envVariable(envSchema.integer(1000), 5_000_000, '`5000000`'),
  EPD_CONCURRENCY: envVariable(envSchema.integer(1), 4, '`4`'),
  EPD_ALLOW_HTTP: envVariable(envSchema.flag(), (production) => !production, '`true`; `false` with `NODE_ENV=production`'),
  EPD_ALLOW_PRIVATE_ADDRESSES: envVariable(envSchema.flag(), (production) => !production, '`true`; `false` with `NODE_ENV=production`'),
} satisfies EnvSpec;

export function loadEpdSettings(env: NodeJS.ProcessEnv = process.env): EpdSettings {
  const values = readEnv(EPD_ENV, env);
  return {
    sourcesFile: values.EPD_SOURCES_FILE,
    readDeadlineMs: values.EPD_READ_DEADLINE_MS,
    timeoutMs: values.EPD_TIMEOUT_MS,
    freshnessMs: values.EPD_FRESHNESS_SECONDS * 1000,
    retryAfterMs: values.EPD_RETRY_AFTER_MS,
    pageSize: values.EPD_PAGE_SIZE,
    maxPages: values.EPD_MAX_PAGES,
    maxResponseBytes: values.EPD_MAX_RESPONSE_BYTES,
    concurrency: values.EPD_CONCURRENCY,
    allowHttp: values.EPD_ALLOW_HTTP,
    allowPrivateAddresses: values.EPD_ALLOW_PRIVATE_ADDRESSES,
  };
}

/** A read that could not include what an EPD holds now; it becomes an EPD_UNAVAILABLE error at `path`. */
export interface EpdProblem {
  providerId: string | null;
  reason: EpdFailure | 'relationship_unavailable' | 'bsn_unavailable';
  path: readonly (string | number)[];
}

/** What one request needs from a peer subgraph, asked with its forwarded gateway token. */
export interface Peers {
  careProviders(patientIds: readonly string[]): Promise<Map<string, string[]>>;
  bsns(patientIds: readonly string[]): Promise<Map<string, string>>;
}

export function remotePeers(urls: { plaatsing: string; indicatiestelling: string }, gatewayToken: string, timeoutMs: number): Peers {
  const ask = async (url: string, query: string, variables: Record<string, unknown>) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gatewayToken}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`peer answered HTTP ${response.status}`);
    return ((await response.json()) as { data?: Record<string, unknown> | null }).data ?? {};
  };
  return {
    careProviders: async (patientIds) => {
      // One request for all patients: an alias per patient.
      const fields = patientIds.map((_, i) => `p${i}: careProvidersOfPatient(patientId: $p${i})`).join(' ');
      const variables = Object.fromEntries(patientIds.map((id, i) => [`p${i}`, id]));
      const data = await ask(urls.plaatsing, `query CareProviders(${patientIds.map((_, i) => `$p${i}: ID!`).join(', ')}) { ${fields} }`, variables);
      const result = new Map<string, string[]>();
      patientIds.forEach((id, i) => {
        const providers = data[`p${i}`];
        if (Array.isArray(providers))
          result.set(
            id,
            providers.filter((value): value is string => typeof value === 'string'),
          );
      });
      return result;
    },
    bsns: async (patientIds) => {
      const data = await ask(urls.indicatiestelling, 'query Bsns($reps: [_Any!]!) { _entities(representations: $reps) { ... on Patient { id bsn } } }', {
        reps: patientIds.map((id) => ({ __typename: 'Patient', id })),
      });
      const result = new Map<string, string>();
      for (const entity of (data._entities as ({ id?: unknown; bsn?: unknown } | null)[] | undefined) ?? []) {
        if (typeof entity?.id === 'string' && typeof entity.bsn === 'string') result.set(entity.id, entity.bsn);
      }
      return result;
    },
  };
}

interface Want {
  patientId: string;
  resourceTypes: EpdResourceType[];
}

/** The process-wide part: sources, clients (their access tokens), imports in flight, recent failures. */
export class EpdSync {
  private readonly configured: Map<string, EpdSource>;
  private readonly clients = new Map<string, { source: EpdSource; client: FhirClient }>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, { until: number; reason: EpdFailure }>();
  private registered: { at: number; sources: Promise<EpdSource[]> } | null = null;
  private readonly slots = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(
    private readonly prisma: PrismaClient,
    readonly settings: EpdSettings,
  ) {
    this.configured = new Map(loadConfiguredSources(settings.sourcesFile).map((source) => [source.providerId, source]));
  }

  /**
   * Every source, configured ones taking precedence. Registrations are cached for 30 s (another
   * instance's connectEpd is seen within that; this instance's at once), so reads cost no query for them.
   */
  async sources(): Promise<Map<string, EpdSource>> {
    if (!this.registered || Date.now() - this.registered.at > 30_000) {
      const sources = registeredSources(this.prisma);
      sources.catch(() => (this.registered = null));
      this.registered = { at: Date.now(), sources };
    }
    const all = new Map((await this.registered.sources).map((source) => [source.providerId, source]));
    for (const [id, source] of this.configured) all.set(id, source);
    return all;
  }

  configuredSource(providerId: string): EpdSource | undefined {
    return this.configured.get(providerId);
  }

  /** After connectEpd/disconnectEpd: the next read sees the change at once. */
  sourcesChanged(providerId: string): void {
    this.registered = null;
    this.clients.delete(providerId);
    this.failures.delete(providerId);
  }

  private client(source: EpdSource): FhirClient {
    const known = this.clients.get(source.providerId);
    if (known && known.source.fhirBaseUrl === source.fhirBaseUrl && JSON.stringify(known.source.auth) === JSON.stringify(source.auth)) return known.client;
    const client = new FhirClient(source, this.settings);
    this.clients.set(source.providerId, { source, client });
    return client;
  }

  /** Per request: batches what the request's resolvers need into one sync per patient. */
  forRequest(access: RequestAccess, peers: Peers): EpdRequest {
    return new EpdRequest(this, access, peers);
  }

  /** The sync states of these patients at these providers, in one statement (a page of patients costs no more than one). */
  async syncStates(patientIds: readonly string[], providerIds: readonly string[]): Promise<Map<string, { syncedAt: Date; highWater: Date | null }>> {
    if (!patientIds.length || !providerIds.length) return new Map();
    const rows = await this.prisma.epdSyncState.findMany({ where: { patientId: { in: [...patientIds] }, providerId: { in: [...providerIds] } } });
    return new Map(rows.map((row) => [`${row.patientId}\u0000${row.providerId}\u0000${row.resourceType}`, row]));
  }

  /** Which of the resource types were not read recently, and since when to ask for the rest of them. */
  stale(
    states: Map<string, { syncedAt: Date; highWater: Date | null }>,
    patientId: string,
    providerId: string,
    resourceTypes: EpdResourceType[],
  ): { stale: EpdResourceType[]; since: Date | null } {
    const stateOf = (type: EpdResourceType) => states.get(`${patientId}\u0000${providerId}\u0000${type}`);
    const stale = resourceTypes.filter((type) => {
      const state = stateOf(type);
      return !state || Date.now() - state.syncedAt.getTime() >= this.settings.freshnessMs;
    });
    const known = stale.map(stateOf);
    // Ask for what changed since the oldest high-water mark among them; a type never read reads everything.
    const since = stale.length && known.every((state) => state?.highWater) ? new Date(Math.min(...known.map((state) => state!.highWater!.getTime()))) : null;
    return { stale, since };
  }

  recentFailure(providerId: string): EpdFailure | null {
    const failure = this.failures.get(providerId);
    if (!failure || failure.until < Date.now()) return null;
    return failure.reason;
  }

  /** Imports one patient's stale resource types from one EPD; shared by concurrent reads, bounded by EPD_TIMEOUT_MS. */
  run(source: EpdSource, patientId: string, bsn: string, resourceTypes: EpdResourceType[], since: Date | null): Promise<void> {
    const key = `${source.providerId}\u0000${patientId}\u0000${resourceTypes.join(',')}`;
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.importFrom(source, patientId, bsn, resourceTypes, since).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  /** Waits for one of the EPD's import slots; the returned function gives it back. */
  private async slot(providerId: string): Promise<() => void> {
    let slots = this.slots.get(providerId);
    if (!slots) this.slots.set(providerId, (slots = { active: 0, waiting: [] }));
    if (slots.active >= this.settings.concurrency) await new Promise<void>((resolve) => slots.waiting.push(resolve));
    slots.active++;
    return () => {
      slots.active--;
      slots.waiting.shift()?.();
    };
  }

  private async importFrom(source: EpdSource, patientId: string, bsn: string, resourceTypes: EpdResourceType[], since: Date | null): Promise<void> {
    const release = await this.slot(source.providerId);
    try {
      await this.importNow(source, patientId, bsn, resourceTypes, since);
    } finally {
      release();
    }
  }

  private async importNow(source: EpdSource, patientId: string, bsn: string, resourceTypes: EpdResourceType[], since: Date | null): Promise<void> {
    const started = Date.now();
    const signal = AbortSignal.timeout(this.settings.timeoutMs);
    const client = this.client(source);
    const totals: ImportCounts = { imported: 0, unchanged: 0, unmapped: 0 };
    try {
      const fhirPatientIds = await client.patientIds(bsn, signal);
      for (const resourceType of resourceTypes) {
        let highWater: Date | null = null;
        if (fhirPatientIds.length) {
          for await (const resources of client.search(resourceType, fhirPatientIds, since, signal)) {
            const page = resources.map((resource) => ({ resource, mapped: mapResource(resource, fhirPatientIds) }));
            for (const { mapped } of page) {
              // A resource of another type in this search is reported under that type, not this one.
              if (mapped.provenance.lastUpdated && (!highWater || mapped.provenance.lastUpdated > highWater)) highWater = mapped.provenance.lastUpdated;
            }
            const counts = await importPage(this.prisma, patientId, source.providerId, page);
            totals.imported += counts.imported;
            totals.unchanged += counts.unchanged;
            totals.unmapped += counts.unmapped;
          }
        }
        await recordSynced(this.prisma, patientId, source.providerId, resourceType, highWater);
      }
      this.failures.delete(source.providerId);
      imports.inc({ outcome: 'ok' });
      for (const result of ['imported', 'unchanged', 'unmapped'] as const) if (totals[result]) importedResources.inc({ result }, totals[result]);
      log.info({ providerId: source.providerId, resourceTypes, ...totals, ms: Date.now() - started }, 'epd import');
    } catch (error) {
      const reason: EpdFailure = error instanceof EpdError ? error.reason : 'unreachable';
      if (!(error instanceof EpdError)) log.error({ providerId: source.providerId, errorClass: (error as Error)?.name }, 'epd import failed unexpectedly');
      else log.warn({ providerId: source.providerId, reason, detail: error.detail, ms: Date.now() - started }, 'epd import failed');
      this.failures.set(source.providerId, { until: Date.now() + this.settings.retryAfterMs, reason });
      imports.inc({ outcome: reason });
      throw error instanceof EpdError ? error : new EpdError('unreachable');
    } finally {
      importLatency.observe((Date.now() - started) / 1000);
    }
  }
}

/** One GraphQL request's view: which patients' CVs it reads, and what went wrong with EPDs. */
export class EpdRequest {
  readonly problems: EpdProblem[] = [];
  private readonly loader: DataLoader<string, readonly EpdProblem['reason'][] | null>;
  private readonly providerProblems = new Map<string, { providerId: string | null; reason: EpdProblem['reason'] }[]>();

  constructor(
    private readonly sync: EpdSync,
    private readonly access: RequestAccess,
    private readonly peers: Peers,
  ) {
    // Keys are "patient\0resourceType": every resolver of a request that reads a CV lands in one batch.
    this.loader = new DataLoader(async (keys) => {
      const byPatient = new Map<string, Set<EpdResourceType>>();
      for (const key of keys) {
        const [patientId, type] = key.split('\u0000') as [string, EpdResourceType];
        byPatient.set(patientId, (byPatient.get(patientId) ?? new Set()).add(type));
      }
      await this.refreshAll([...byPatient].map(([patientId, types]) => ({ patientId, resourceTypes: [...types] })));
      return keys.map(() => null);
    });
  }

  /**
   * Brings the patient's imported entries of these kinds up to date (within the deadline) before a
   * resolver reads them. `coordinate` is the field being resolved: only a caller who may see it
   * (granted, or by relationship — the guard has checked the patient already) makes EPDs be read.
   */
  async refresh(
    patientId: string,
    kinds: Iterable<CvEntryKind>,
    coordinate: { type: string; field: string; args: Record<string, unknown> },
    path: readonly (string | number)[],
  ): Promise<void> {
    // Judged as the guard judged the field: by the arguments asked (entries(kinds:)) where the policy says so.
    const byArguments = argumentRequirement(loadAccessPolicy(), coordinate.type, coordinate.field, coordinate.args);
    const decision = byArguments ? this.access.decide(byArguments) : this.access.decideField(coordinate.type, coordinate.field)?.decision;
    if (decision !== undefined && decision !== 'granted' && decision !== 'relationship') return;
    const types = resourceTypesFor(kinds);
    if (!types.length) return;
    await this.loader.loadMany(types.map((type) => `${patientId}\u0000${type}`));
    const seen = new Set<string>();
    for (const problem of this.providerProblems.get(patientId) ?? []) {
      const key = `${problem.providerId}:${problem.reason}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.problems.push({ ...problem, path });
    }
  }

  private problem(patientId: string, providerId: string | null, reason: EpdProblem['reason']): void {
    readProblems.inc({ reason });
    this.providerProblems.set(patientId, [...(this.providerProblems.get(patientId) ?? []), { providerId, reason }]);
  }

  private async refreshAll(wants: Want[]): Promise<void> {
    const sources = await this.sync.sources();
    if (!sources.size) return;
    let providersOf: Map<string, string[]>;
    try {
      providersOf = await this.peers.careProviders(wants.map((want) => want.patientId));
    } catch {
      for (const want of wants) this.problem(want.patientId, null, 'relationship_unavailable');
      return;
    }
    // Per patient, the EPDs of its own providers, and of those only the resource types not read recently.
    const involved = [...new Set([...providersOf.values()].flat().filter((providerId) => sources.has(providerId)))];
    const states = await this.sync.syncStates(
      wants.filter((want) => providersOf.has(want.patientId)).map((want) => want.patientId),
      involved,
    );
    const jobs: { want: Want; source: EpdSource; stale: EpdResourceType[]; since: Date | null }[] = [];
    for (const want of wants) {
      if (!providersOf.has(want.patientId)) {
        this.problem(want.patientId, null, 'relationship_unavailable');
        continue;
      }
      for (const providerId of providersOf.get(want.patientId)!) {
        const source = sources.get(providerId);
        if (!source) continue;
        const { stale, since } = this.sync.stale(states, want.patientId, providerId, want.resourceTypes);
        if (!stale.length) continue;
        const failed = this.sync.recentFailure(providerId);
        if (failed) {
          this.problem(want.patientId, providerId, failed);
          continue;
        }
        jobs.push({ want, source, stale, since });
      }
    }
    if (!jobs.length) return;
    let bsns: Map<string, string>;
    try {
      bsns = await this.peers.bsns([...new Set(jobs.map((job) => job.want.patientId))]);
    } catch {
      bsns = new Map();
    }
    const { readDeadlineMs } = this.sync.settings;
    await Promise.all(
      jobs.map(async ({ want, source, stale, since }) => {
        const bsn = bsns.get(want.patientId);
        if (!bsn) return this.problem(want.patientId, source.providerId, 'bsn_unavailable');
        const running = this.sync.run(source, want.patientId, bsn, stale, since);
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), readDeadlineMs)));
        try {
          const outcome = await Promise.race([running.then(() => 'done' as const), deadline]);
          // The import goes on in the background; its failure is remembered for the next read.
          if (outcome === 'deadline') {
            running.catch(() => undefined);
            this.problem(want.patientId, source.providerId, 'timeout');
          }
        } catch (error) {
          this.problem(want.patientId, source.providerId, error instanceof EpdError ? error.reason : 'unreachable');
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
}

const MESSAGES: Record<EpdProblem['reason'], string> = {
  timeout: 'did not answer in time',
  unreachable: 'could not be reached',
  unauthorized: "refused ketengraph's credentials",
  token_refused: "refused ketengraph's token request",
  http_status: 'answered with an error',
  operation_outcome: 'answered with an OperationOutcome error',
  malformed: 'answered with something that is not FHIR',
  too_large: 'answered with more than ketengraph accepts',
  foreign_link: 'sent a paging link outside its own base URL',
  non_public_address: 'resolves to an address that is not public',
  redirected: 'answered with a redirect, which ketengraph does not follow',
  too_many_pages: 'has more pages than ketengraph reads at once',
  relationship_unavailable: 'could not be determined (plaatsing did not answer)',
  bsn_unavailable: "could not be asked: the patient's BSN was not available",
};

/** The response's EPD_UNAVAILABLE errors (one per provider, reason and path). */
export function problemErrors(problems: readonly EpdProblem[]) {
  return problems.map((problem) => ({
    message: problem.providerId
      ? `The EPD of provider ${problem.providerId} ${MESSAGES[problem.reason]}; the CV shows what was imported from it before.`
      : `Which EPDs hold this patient's records ${MESSAGES[problem.reason]}; the CV shows what was imported before.`,
    path: [...problem.path],
    extensions: { code: 'EPD_UNAVAILABLE' satisfies ErrorCode, provider: problem.providerId, reason: problem.reason },
  }));
}
