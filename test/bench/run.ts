/**
 * `npm run bench [-- --patients 2000 --duration 15 --connections 32 --rounds 2 --single 10
 *   --subgraphs project,cheap --gateways ketengraph,apollo,hive,hive-rust --engine postgres|pglite]`
 *
 * Runs the whole-trajectory query for random patients through ketengraph's gateway and its peers
 * — a bare @apollo/gateway, Hive Gateway, and Hive Gateway with its Rust query planner — on the
 * same supergraph and subgraphs, with autocannon in a separate process:
 * - `project`: the four subgraphs, each its own process on its own seeded database, on the embedded
 *   PostgreSQL server as `npm start` runs them (stack-start.ts; `--engine pglite`: PGlite in each);
 * - `cheap`: the same four schemas answered from memory (cheap-subgraphs.ts): the gateways' own cost.
 * ketengraph's access log is on the embedded PostgreSQL server too (as `npm start` keeps it), unless
 * `--audit-database-url` names another database (or `--engine pglite`: PGlite in the gateway).
 * Rounds alternate between the gateways so that drift in machine load affects all alike. Reports
 * per gateway requests per second, p50/p95/p99 latency, errors, CPU milliseconds per request of
 * the gateway and of the subgraphs, SQL statements per request, gateway memory, the ratios of
 * ketengraph to each peer, and a run at concurrency 1 (the latency one caller sees).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mintDevToken, withoutSecurityPurpose } from '@ketengraph/gateway';
import { ensureKeyPair, GATEWAY_KEYS_DIR, importSigningKey, signGatewayToken, type Principal } from '@ketengraph/service-kit';
import { composeSupergraph } from '../../schema/compose.js';
import { SUBGRAPHS } from '../../schema/subgraphs.js';
import { databaseName, embeddedAuditCheckpoints, startEmbeddedPostgres } from '../../scripts/embedded-postgres.js';
import type { LoadResult } from './load.js';
import { postText, runLoad } from './load-runner.js';
import { benchRuntime, startStack, type StackEngine } from './stack-start.js';
import {
  buildServices,
  compiled,
  cpuTime,
  repositoryRoot,
  residentMemory,
  sqlStatements,
  startProcess,
  waitForReady,
  type ManagedProcess,
} from '../../scripts/processes.js';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    /** Seconds of the concurrency-1 run per gateway (0: none). */
    single: { type: 'string', default: '10' },
    subgraphs: { type: 'string', default: 'project,cheap' },
    gateways: { type: 'string', default: 'ketengraph,apollo,hive,hive-rust' },
    /** First of the ports used (gateways at +0, +10, +20, +30; subgraphs at +1…+4). */
    port: { type: 'string', default: '4200' },
    /** ketengraph's access log on this PostgreSQL database instead of the embedded server's. */
    'audit-database-url': { type: 'string' },
    /** The embedded database engine: one PostgreSQL server (npm start's default) or PGlite in every process. */
    engine: { type: 'string', default: 'postgres' },
    /** Write a V8 CPU profile of ketengraph's gateway into this directory (node --cpu-prof). */
    'cpu-prof': { type: 'string' },
  },
});
const patients = Number(values.patients);
const durationSeconds = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const singleSeconds = Number(values.single);
const basePort = Number(values.port);
const sets = values.subgraphs.split(',') as ('project' | 'cheap')[];
if (values.engine !== 'postgres' && values.engine !== 'pglite') throw new Error('--engine is postgres or pglite');
const engine: StackEngine = values.engine;
const chosen = values.gateways.split(',');

const query = readFileSync(join(repositoryRoot, 'test/operations/PatientTrajectory.graphql'), 'utf8');

// Tokens: a caller token from the development issuer for ketengraph's gateway, and for the peers
// (which only forward it) a token signed with ketengraph's gateway key, valid for the run.
const principal: Principal = { subject: 'bench', organisationId: 'dji', role: 'plaatser', scopes: [], purpose: 'plaatsing' };
const gatewayKey = await importSigningKey(await ensureKeyPair(GATEWAY_KEYS_DIR));
const callerAuthorization = { authorization: `Bearer ${await mintDevToken(principal, { expiresInSeconds: 7200 })}` };
const subgraphAuthorization = { authorization: `Bearer ${await signGatewayToken(principal, gatewayKey, 7200)}` };

/** Where ketengraph's gateway keeps its access log and webhook store for one set of subgraphs. */
interface GatewayData {
  env: NodeJS.ProcessEnv;
}

interface GatewaySpec {
  key: string;
  name: string;
  offset: number;
  start(port: number, supergraphFile: string, bareSupergraphFile: string, set: string, data: GatewayData): ManagedProcess;
  headers: Record<string, string>;
  readyPath: string;
  readyHeaders?: Record<string, string>;
}

const PEERS: GatewaySpec[] = [
  {
    key: 'ketengraph',
    name: 'ketengraph',
    offset: 0,
    // Everything on as in production, except that the one benchmark organisation may exceed the per-organisation
    // rate limit (the limiter still runs; the benchmark measures capacity, not the limit); own audit and webhook data.
    // On the cheap subgraphs the handover relay is off: it would follow their made-up event feed.
    start: (port, supergraphFile, _bare, set, data) => {
      const profile = values['cpu-prof'];
      if (profile) mkdirSync(profile, { recursive: true });
      return startProcess(
        'ketengraph gateway',
        compiled('gateway/src/main.ts'),
        {
          PORT: String(port),
          SUPERGRAPH_FILE: supergraphFile,
          ...data.env,
          RATE_LIMIT_PER_SECOND: '1000000',
          ...(set === 'cheap' ? { HANDOVER_RELAY: 'off' } : {}),
        },
        { quiet: true, ...(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profile}`] } : {}) },
      );
    },
    headers: callerAuthorization,
    readyPath: '/ready',
  },
  {
    key: 'apollo',
    name: 'bare @apollo/gateway',
    offset: 10,
    start: (port, _file, bare) =>
      startProcess('bare @apollo/gateway', 'test/bench/bare-gateway.mjs', { PORT: String(port), SUPERGRAPH_FILE: bare }, { quiet: true }),
    headers: subgraphAuthorization,
    // Apollo Server 5 has no health route; a GET operation with the CSRF preflight header answers once it serves.
    readyPath: '/?query=%7B__typename%7D',
    readyHeaders: { 'apollo-require-preflight': 'true' },
  },
  {
    key: 'hive',
    name: 'Hive Gateway',
    offset: 20,
    start: (port, _file, bare) => startProcess('Hive Gateway', 'test/bench/hive-gateway.mjs', { PORT: String(port), SUPERGRAPH_FILE: bare }, { quiet: true }),
    headers: subgraphAuthorization,
    readyPath: '/readiness',
  },
  {
    key: 'hive-rust',
    name: 'Hive Gateway + Rust planner',
    offset: 30,
    start: (port, _file, bare) =>
      startProcess(
        'Hive Gateway (Rust planner)',
        'test/bench/hive-gateway.mjs',
        { PORT: String(port), SUPERGRAPH_FILE: bare, HIVE_RUST_PLANNER: '1' },
        { quiet: true },
      ),
    headers: subgraphAuthorization,
    readyPath: '/readiness',
  },
];
const GATEWAYS = PEERS.filter((g) => chosen.includes(g.key));
if (!GATEWAYS.some((g) => g.key === 'ketengraph')) throw new Error('--gateways must include ketengraph (the ratios are to it)');

// ketengraph's gateway compiled, as npm start and a deployment run it (the peers are plain JavaScript).
buildServices();
const processes: ManagedProcess[] = [];
/** Stopped after the processes: the stack of the project's subgraphs, an embedded database server. */
const afterwards: (() => Promise<void>)[] = [];
const stopAll = async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop()));
  for (const stop of afterwards.splice(0)) await stop();
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

interface Measured {
  runs: LoadResult[];
  gatewayCpuMs: number[];
  /** Per subgraph process, and the database server (`postgres server`) when there is one. */
  subgraphCpuMs: Map<string, number[]>;
  statementsPerRequest: number[];
  memory: number[];
  single?: LoadResult;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const load1 = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
console.log(`${benchRuntime()}; load average at start: ${load1()} (2 cores; other work on the machine shows in every number)`);

try {
  for (const set of sets) {
    // 1. Subgraphs, and where ketengraph's gateway keeps its access log.
    const urls: Record<string, string> = {};
    const subgraphProcesses: { name: string; process: ManagedProcess }[] = [];
    const auditUrl = values['audit-database-url'];
    let gatewayData: GatewayData;
    if (set === 'project') {
      // As npm start runs them: compiled, on the embedded PostgreSQL server (or PGlite), seeded once.
      const stack = await startStack({ engine, patients, basePort, gateway: false });
      afterwards.push(stack.stop);
      Object.assign(urls, stack.urls);
      for (const managed of stack.processes) subgraphProcesses.push({ name: managed.name, process: managed });
      if (stack.server?.process) subgraphProcesses.push({ name: 'postgres server', process: stack.server.process });
      const dataDir = join(repositoryRoot, '.data', `bench-${patients}`);
      gatewayData = {
        env: auditUrl
          ? { AUDIT_DATABASE_URL: auditUrl, WEBHOOK_DATA_DIR: join(dataDir, 'gateway-webhooks') }
          : stack.server
            ? {
                AUDIT_DATABASE_URL: stack.databaseUrls['gateway-audit'],
                WEBHOOK_DATABASE_URL: stack.databaseUrls['gateway-webhooks'],
                AUDIT_CHECKPOINT_FILE: stack.auditCheckpointFile,
              }
            : { AUDIT_DATA_DIR: join(dataDir, 'gateway-audit'), WEBHOOK_DATA_DIR: join(dataDir, 'gateway-webhooks') },
      };
    } else {
      SUBGRAPHS.forEach(({ name }, i) => (urls[name] = `http://127.0.0.1:${basePort + 1 + i}/graphql`));
      const ports = Object.values(urls).map((url) => new URL(url).port);
      const managed = startProcess('cheap subgraphs', 'test/bench/cheap-subgraphs.ts', { CHEAP_PORTS: ports.join(',') }, { quiet: true });
      processes.push(managed);
      subgraphProcesses.push({ name: 'cheap subgraphs (one process)', process: managed });
      const dataDir = join(repositoryRoot, '.data', 'bench-cheap');
      if (auditUrl) gatewayData = { env: { AUDIT_DATABASE_URL: auditUrl, WEBHOOK_DATA_DIR: join(dataDir, 'gateway-webhooks') } };
      else if (engine === 'postgres') {
        // The access log as npm start keeps it: a database on an embedded PostgreSQL server.
        const dir = `${dataDir}-postgres`;
        const server = await startEmbeddedPostgres({ dir, port: basePort + 40 });
        afterwards.push(server.stop);
        if (server.process) subgraphProcesses.push({ name: 'postgres server', process: server.process });
        await server.ensureDatabase(databaseName('gateway-audit'));
        gatewayData = {
          env: {
            AUDIT_DATABASE_URL: server.url(databaseName('gateway-audit')),
            AUDIT_CHECKPOINT_FILE: embeddedAuditCheckpoints(dir),
            WEBHOOK_DATA_DIR: join(dataDir, 'gateway-webhooks'),
          },
        };
      } else gatewayData = { env: { AUDIT_DATA_DIR: join(dataDir, 'gateway-audit'), WEBHOOK_DATA_DIR: join(dataDir, 'gateway-webhooks') } };
      await Promise.all(Object.values(urls).map((url) => waitForReady(url)));
    }

    // 2. The gateways on the same supergraph. The peers cannot load authorization links marked for
    // security (they would not enforce them), so they get them as plain metadata.
    const supergraphFile = join(mkdtempSync(join(tmpdir(), 'ketengraph-bench-')), 'supergraph.graphql');
    const supergraph = composeSupergraph(urls);
    writeFileSync(supergraphFile, supergraph);
    const bareSupergraphFile = `${supergraphFile}.bare`;
    writeFileSync(bareSupergraphFile, withoutSecurityPurpose(supergraph));
    const targets = GATEWAYS.map((spec) => {
      const port = basePort + spec.offset;
      const managed = spec.start(port, supergraphFile, bareSupergraphFile, set, gatewayData);
      processes.push(managed);
      return { ...spec, process: managed, url: `http://127.0.0.1:${port}/graphql`, readyUrl: `http://127.0.0.1:${port}${spec.readyPath}` };
    });
    for (const target of targets) await waitForReady(target.readyUrl, 120_000, { headers: target.readyHeaders ?? {}, process: target.process });

    // 3. Random patients (a fixed sample: every gateway gets the same request stream); every gateway must answer it alike.
    const ids =
      set === 'project'
        ? await samplePatientIds(urls.indicatiestelling!, 500)
        : Array.from({ length: 500 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const bodies = ids.map((id) => JSON.stringify({ query, operationName: 'PatientTrajectory', variables: { id } }));
    let reference: string | undefined;
    for (const target of targets) {
      const sample = JSON.parse(await postText(target.url, bodies[0]!, target.headers)) as { data?: unknown; errors?: unknown[] };
      if (sample.errors) throw new Error(`The trajectory query fails on ${target.name}: ${JSON.stringify(sample.errors).slice(0, 500)}`);
      const data = JSON.stringify(sample.data);
      reference ??= data;
      if (data !== reference)
        console.warn(`warning: ${target.name} answers differently from ${targets[0]!.name} (${data.length} against ${reference.length} bytes)`);
    }
    const responseBytes = reference?.length ?? 0;

    // 4. Warm-up, then alternating measured rounds.
    for (const target of targets) await runLoad({ url: target.url, bodies, connections, durationSeconds: 5, headers: target.headers });
    const results = new Map<string, Measured>(
      targets.map((t) => [t.name, { runs: [], gatewayCpuMs: [], subgraphCpuMs: new Map(), statementsPerRequest: [], memory: [] }]),
    );
    const subgraphBases = Object.values(urls);
    const cpuOf = (managed: ManagedProcess) => cpuTime(managed.child.pid!);
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) {
        const entry = results.get(target.name)!;
        const before = set === 'project' ? await sqlStatements(subgraphBases) : 0;
        const gatewayBefore = await cpuOf(target.process);
        const subgraphsBefore = await Promise.all(subgraphProcesses.map((s) => cpuOf(s.process)));
        const result = await runLoad({ url: target.url, bodies, connections, durationSeconds, headers: target.headers });
        const gatewayAfter = await cpuOf(target.process);
        const subgraphsAfter = await Promise.all(subgraphProcesses.map((s) => cpuOf(s.process)));
        const statements = set === 'project' ? (await sqlStatements(subgraphBases)) - before : Number.NaN;
        const requests = Math.max(1, result.requests);
        entry.runs.push(result);
        entry.gatewayCpuMs.push((gatewayAfter - gatewayBefore) / requests);
        subgraphProcesses.forEach((s, i) => {
          const list = entry.subgraphCpuMs.get(s.name) ?? [];
          list.push((subgraphsAfter[i]! - subgraphsBefore[i]!) / requests);
          entry.subgraphCpuMs.set(s.name, list);
        });
        entry.statementsPerRequest.push(statements / requests);
        entry.memory.push(await residentMemory(target.process.child.pid!));
      }
    }
    // 5. One caller at a time: the latency a single user sees.
    if (singleSeconds > 0) {
      for (const target of targets) {
        results.get(target.name)!.single = await runLoad({ url: target.url, bodies, connections: 1, durationSeconds: singleSeconds, headers: target.headers });
      }
    }
    await stopAll();

    // 6. Report.
    const title =
      set === 'project'
        ? `the project's subgraphs (${patients} patients, ${engine === 'postgres' ? 'embedded PostgreSQL server' : 'embedded PGlite in each'})`
        : 'cheap subgraphs (answers from memory: gateway overhead)';
    console.log(
      `\nWhole-trajectory query on ${title}; ${connections} connections, ${rounds} × ${durationSeconds} s per gateway; response ${responseBytes} bytes`,
    );
    console.table(
      [...results].map(([name, r]) => ({
        gateway: name,
        'req/s': mean(r.runs.map((x) => x.requestsPerSecond)).toFixed(1),
        'p50 ms': mean(r.runs.map((x) => x.latencyMs.p50)).toFixed(1),
        'p95 ms': mean(r.runs.map((x) => x.latencyMs.p95)).toFixed(1),
        'p99 ms': mean(r.runs.map((x) => x.latencyMs.p99)).toFixed(1),
        errors: r.runs.reduce((a, x) => a + x.errors, 0),
        'gateway CPU ms/req': mean(r.gatewayCpuMs).toFixed(2),
        'subgraphs CPU ms/req': [...r.subgraphCpuMs].reduce((a, [name, xs]) => (name === 'postgres server' ? a : a + mean(xs)), 0).toFixed(2),
        ...(r.subgraphCpuMs.has('postgres server') ? { 'database server CPU ms/req': mean(r.subgraphCpuMs.get('postgres server')!).toFixed(2) } : {}),
        'SQL/req': set === 'project' ? mean(r.statementsPerRequest).toFixed(2) : '-',
        'RSS MiB': (Math.max(...r.memory) / 1048576).toFixed(0),
      })),
    );
    if (subgraphProcesses.length > 1) {
      console.log("CPU ms per request per process (the database server also writes ketengraph's access log)");
      console.table(
        [...results].map(([name, r]) => ({ gateway: name, ...Object.fromEntries([...r.subgraphCpuMs].map(([s, xs]) => [s, mean(xs).toFixed(2)])) })),
      );
    }
    if (singleSeconds > 0) {
      console.log(`Concurrency 1 (${singleSeconds} s per gateway)`);
      console.table(
        [...results].map(([name, r]) => ({
          gateway: name,
          'req/s': r.single!.requestsPerSecond.toFixed(1),
          'p50 ms': r.single!.latencyMs.p50.toFixed(1),
          'p95 ms': r.single!.latencyMs.p95.toFixed(1),
          'p99 ms': r.single!.latencyMs.p99.toFixed(1),
          errors: r.single!.errors,
        })),
      );
    }
    const ours = results.get('ketengraph')!;
    const rps = (r: Measured) => mean(r.runs.map((x) => x.requestsPerSecond));
    const p99 = (r: Measured) => mean(r.runs.map((x) => x.latencyMs.p99));
    const peers = [...results].filter(([name]) => name !== 'ketengraph');
    if (peers.length) {
      console.log('ketengraph / peer (throughput: above 1 is better; p99 and CPU: below 1 is better)');
      console.table(
        peers.map(([name, r]) => ({
          peer: name,
          'req/s': (rps(ours) / rps(r)).toFixed(3),
          p99: (p99(ours) / p99(r)).toFixed(3),
          'gateway CPU/req': (mean(ours.gatewayCpuMs) / mean(r.gatewayCpuMs)).toFixed(3),
          ...(singleSeconds > 0 ? { 'p50 at concurrency 1': (ours.single!.latencyMs.p50 / r.single!.latencyMs.p50).toFixed(3) } : {}),
        })),
      );
    }
  }
} finally {
  await stopAll();
  console.log(`load average at end: ${load1()}`);
}

async function samplePatientIds(indicatiestellingUrl: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  while (ids.length < Math.min(count * 4, patients)) {
    const response = JSON.parse(
      await postText(
        indicatiestellingUrl,
        JSON.stringify({
          query: 'query($after: String) { patients(first: 100, after: $after) { edges { node { id } } pageInfo { endCursor hasNextPage } } }',
          variables: { after },
        }),
        subgraphAuthorization,
      ),
    ) as {
      data: { patients: { edges: { node: { id: string } }[]; pageInfo: { endCursor: string; hasNextPage: boolean } } };
    };
    ids.push(...response.data.patients.edges.map((e) => e.node.id));
    if (!response.data.patients.pageInfo.hasNextPage) break;
    after = response.data.patients.pageInfo.endCursor;
  }
  // Deterministic shuffle so that every run asks for the same patients in the same order.
  let state = 42;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  return ids
    .map((id) => ({ id, key: random() }))
    .sort((a, b) => a.key - b.key)
    .slice(0, count)
    .map((x) => x.id);
}
