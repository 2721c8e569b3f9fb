/**
 * `npm run bench:stack [-- --engine postgres|pglite --patients 2000 --duration 15 --connections 32 --rounds 2]`
 *
 * The whole development stack as `npm start` runs it (four subgraphs, the gateway with its audit
 * log and webhook store) under the whole-trajectory query for random patients, on either embedded
 * engine: one embedded PostgreSQL server with a database per process (`postgres`, the default of
 * `npm start`) or an embedded PGlite in every process (`pglite`). Seeds each once (`.data/bench-<N>`
 * and `.data/bench-<N>-postgres`). Reports what each process costs: CPU milliseconds per request
 * (user + system, from /proc: robust on a busy machine, unlike requests/s), memory (proportional
 * set size, so that memory shared between processes — PostgreSQL's shared buffers — is counted
 * once), and for the whole stack the time to ready, requests/s, p50/p99, SQL statements per
 * request and the latency one user sees (one connection). `--profile DIR` writes a CPU profile of
 * every subgraph process (open it in Chrome DevTools or speedscope); `--log-sql` prints the SQL
 * statements of one request instead of measuring.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { mintDevToken } from '@ketengraph/gateway';
import { ensureKeyPair, GATEWAY_KEYS_DIR, importSigningKey, signGatewayToken, type Principal } from '@ketengraph/service-kit';
import type { EmbeddedPostgres } from '../../scripts/embedded-postgres.js';
import { repositoryRoot, sqlStatements } from '../../scripts/processes.js';
import type { LoadResult } from './load.js';
import { postText, runLoad } from './load-runner.js';
import { benchRuntime, cpuMs, memoryBytes, startStack } from './stack-start.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'postgres' },
    patients: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    'base-port': { type: 'string', default: '4400' },
    profile: { type: 'string' },
    'log-sql': { type: 'boolean', default: false },
  },
});
if (values.engine !== 'postgres' && values.engine !== 'pglite') throw new Error('--engine is postgres or pglite');
const patients = Number(values.patients);

const principal: Principal = { subject: 'bench', organisationId: 'dji', role: 'plaatser', scopes: [], purpose: 'plaatsing' };
const gatewayKey = await importSigningKey(await ensureKeyPair(GATEWAY_KEYS_DIR));
const callerAuthorization = { authorization: `Bearer ${await mintDevToken(principal, { expiresInSeconds: 3600 })}` };
const subgraphAuthorization = { authorization: `Bearer ${await signGatewayToken(principal, gatewayKey, 3600)}` };

const stack = await startStack({ engine: values.engine, patients, basePort: Number(values['base-port']), profile: values.profile });

try {
  const { urls, gatewayUrl, measured, startSeconds } = stack;
  const query = readFileSync(join(repositoryRoot, 'test/operations/PatientTrajectory.graphql'), 'utf8');
  const ids = await samplePatientIds(urls.indicatiestelling!, 500);
  const bodies = ids.map((id) => JSON.stringify({ query, operationName: 'PatientTrajectory', variables: { id } }));
  const sample = JSON.parse(await postText(gatewayUrl, bodies[0]!, callerAuthorization)) as { errors?: unknown[] };
  if (sample.errors) throw new Error(`The trajectory query fails: ${JSON.stringify(sample.errors).slice(0, 500)}`);
  if (values['log-sql']) {
    await logStatements(stack.server, () => postText(gatewayUrl, bodies[1]!, callerAuthorization));
    await stack.stop();
    process.exit(0);
  }

  // Memory as started (one request served), then under load.
  const idle = new Map(measured.map((m) => [m.name, m.pids().reduce((sum, pid) => sum + memoryBytes(pid), 0)]));
  await runLoad({ url: gatewayUrl, bodies, connections: Number(values.connections), durationSeconds: 3, headers: callerAuthorization });
  const totals = new Map<string, number>();
  let requests = 0;
  const runs: LoadResult[] = [];
  let statements = 0;
  for (let round = 0; round < Number(values.rounds); round++) {
    const cpuBefore = measured.map((m) => cpuMs(m.pids()));
    const sqlBefore = await sqlStatements(Object.values(urls));
    const result = await runLoad({
      url: gatewayUrl,
      bodies,
      connections: Number(values.connections),
      durationSeconds: Number(values.duration),
      headers: callerAuthorization,
    });
    statements += (await sqlStatements(Object.values(urls))) - sqlBefore;
    measured.forEach((m, i) => totals.set(m.name, (totals.get(m.name) ?? 0) + cpuMs(m.pids()) - cpuBefore[i]!));
    requests += result.requests;
    runs.push(result);
  }
  const single = await runLoad({ url: gatewayUrl, bodies, connections: 1, durationSeconds: 5, headers: callerAuthorization });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = measured.map((m) => {
    const rss = m.pids().reduce((sum, pid) => sum + memoryBytes(pid), 0);
    return {
      process: m.name,
      'CPU ms/req': ((totals.get(m.name) ?? 0) / requests).toFixed(2),
      'PSS MiB started': ((idle.get(m.name) ?? 0) / 1048576).toFixed(0),
      'PSS MiB loaded': (rss / 1048576).toFixed(0),
      rss,
    };
  });
  const cpuTotal = [...totals.values()].reduce((a, b) => a + b, 0) / requests;
  const rssTotal = rows.reduce((sum, r) => sum + r.rss, 0);
  const idleTotal = [...idle.values()].reduce((a, b) => a + b, 0);
  console.log(
    `\n${benchRuntime()}. Whole-trajectory query, ${patients} patients, embedded ${values.engine === 'postgres' ? 'PostgreSQL server' : 'PGlite per process'}, ${values.connections} connections, ${values.rounds} × ${values.duration} s`,
  );
  console.table([
    ...rows.map(({ rss: _, ...row }) => row),
    {
      process: 'whole stack',
      'CPU ms/req': cpuTotal.toFixed(2),
      'PSS MiB started': (idleTotal / 1048576).toFixed(0),
      'PSS MiB loaded': (rssTotal / 1048576).toFixed(0),
    },
  ]);
  console.log(
    [
      `ready in ${startSeconds.toFixed(1)} s`,
      `${mean(runs.map((r) => r.requestsPerSecond)).toFixed(1)} req/s`,
      `p50 ${mean(runs.map((r) => r.latencyMs.p50)).toFixed(1)} ms`,
      `p99 ${mean(runs.map((r) => r.latencyMs.p99)).toFixed(1)} ms`,
      `errors ${runs.reduce((a, r) => a + r.errors, 0) + single.errors}`,
      `SQL/req ${(statements / requests).toFixed(2)}`,
      `one connection: p50 ${single.latencyMs.p50.toFixed(1)} ms, ${single.requestsPerSecond.toFixed(1)} req/s`,
    ].join(' · '),
  );
} finally {
  await stack.stop();
}

/**
 * `--log-sql`: the statements one whole-trajectory request sends to the subgraphs' databases, from
 * the embedded server's log (statement logging on for just that request; without the gateway's own
 * stores and the background polls of the event feed and the handover relay).
 */
async function logStatements(server: EmbeddedPostgres | undefined, request: () => Promise<unknown>): Promise<void> {
  if (!server) throw new Error('--log-sql needs the embedded PostgreSQL server (--engine postgres)');
  const logFile = join(repositoryRoot, '.data', `bench-${patients}-postgres.log`);
  const admin = new pg.Client({ connectionString: server.url('postgres') });
  await admin.connect();
  const setLogging = async (on: boolean) => {
    await admin.query(on ? `ALTER SYSTEM SET log_statement = 'all'` : 'ALTER SYSTEM RESET log_statement');
    await admin.query(on ? `ALTER SYSTEM SET log_line_prefix = '%d: '` : 'ALTER SYSTEM RESET log_line_prefix');
    await admin.query('SELECT pg_reload_conf()');
    await new Promise((resolve) => setTimeout(resolve, 300)); // every backend reloads its configuration
  };
  const from = readFileSync(logFile, 'utf8').length;
  await setLogging(true);
  await request();
  await setLogging(false);
  await admin.end();
  const lines = readFileSync(logFile, 'utf8')
    .slice(from)
    .split('\n')
    .filter(
      (line) => / LOG: {2}(statement|execute)/.test(line) && !/^(postgres|gateway_\w+):/.test(line) && !/"(PlacementEvent|HandoverRelayPosition)"/.test(line),
    );
  for (const line of lines) console.log(line.length > 300 ? `${line.slice(0, 300)} …` : line);
  console.log(`${lines.length} statements`);
}

async function samplePatientIds(indicatiestellingUrl: string, count: number): Promise<string[]> {
  const response = JSON.parse(
    await postText(
      indicatiestellingUrl,
      JSON.stringify({ query: `{ patients(first: ${Math.min(count * 4, 100)}) { edges { node { id } } } }` }),
      subgraphAuthorization,
    ),
  ) as { data: { patients: { edges: { node: { id: string } }[] } } };
  const all = response.data.patients.edges.map((e) => e.node.id);
  let state = 42;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: count }, () => all[Math.floor(random() * all.length)]!);
}
