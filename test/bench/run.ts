/**
 * `npm run bench [-- --patients 2000 --duration 15 --connections 32]`
 *
 * Runs the whole-trajectory query for random patients through ketengraph's gateway and through
 * a bare @apollo/gateway on the same subgraphs (each subgraph its own process on its own seeded
 * embedded database), with autocannon in a separate process. Reports requests per second,
 * p50/p95/p99 latency, errors, SQL statements per request and gateway memory, and the
 * throughput ratio ketengraph / bare. Rounds alternate between the two gateways so that drift in
 * machine load affects both alike.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mintDevToken } from '@ketengraph/gateway';
import { ensureKeyPair, GATEWAY_KEYS_DIR, importSigningKey, signGatewayToken, type Principal } from '@ketengraph/service-kit';
import { withoutSecurityPurpose } from '@ketengraph/gateway';
import { composeSupergraph } from '../../schema/compose.js';
import { SUBGRAPHS } from '../../schema/subgraphs.js';
import type { LoadJob, LoadResult } from './load.js';
import { repositoryRoot, residentMemory, sqlStatements, startProcess, waitForReady, type ManagedProcess } from '../../scripts/processes.js';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
  },
});
const patients = Number(values.patients);
const durationSeconds = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);

const query = readFileSync(join(repositoryRoot, 'test/operations/PatientTrajectory.graphql'), 'utf8');
const dataRoot = join(repositoryRoot, '.data', `bench-${patients}`);
const tsx = join(repositoryRoot, 'node_modules/.bin/tsx');
const basePort = 4200;
const envPrefix = (name: string) => name.toUpperCase().replaceAll('-', '_');

// 1. Seeded databases, reused across runs of the same size.
const marker = join(dataRoot, 'seeded');
if (!existsSync(marker)) {
  console.log(`Seeding ${patients} patients into ${dataRoot} …`);
  const env = { ...process.env };
  for (const { name } of SUBGRAPHS) env[`${envPrefix(name)}_DATA_DIR`] = join(dataRoot, name);
  execFileSync(tsx, ['scripts/seed.ts', '--patients', String(patients)], { cwd: repositoryRoot, env, stdio: 'inherit' });
  writeFileSync(marker, String(patients));
}

// 2. Tokens: a caller token from the development issuer for ketengraph's gateway, and for the bare
// gateway (which only forwards it) a token signed with ketengraph's gateway key, valid for the run.
const principal: Principal = { subject: 'bench', organisationId: 'dji', role: 'plaatser', scopes: [], purpose: 'plaatsing' };
const gatewayKey = await importSigningKey(await ensureKeyPair(GATEWAY_KEYS_DIR));
const callerAuthorization = { authorization: `Bearer ${await mintDevToken(principal, { expiresInSeconds: 3600 })}` };
const subgraphAuthorization = { authorization: `Bearer ${await signGatewayToken(principal, gatewayKey, 3600)}` };

const processes: ManagedProcess[] = [];
const stopAll = () => Promise.all(processes.map((p) => p.stop()));
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  // 3. Subgraphs as separate processes.
  const urls: Record<string, string> = {};
  SUBGRAPHS.forEach(({ name }, i) => {
    const port = basePort + 1 + i;
    urls[name] = `http://127.0.0.1:${port}/graphql`;
  });
  for (const { name } of SUBGRAPHS) {
    processes.push(
      startProcess(
        name,
        `subgraphs/${name}/src/main.ts`,
        {
          PORT: new URL(urls[name]!).port,
          DATA_DIR: join(dataRoot, name),
          SEED_PATIENTS: '0',
          INDICATIESTELLING_URL: urls.indicatiestelling,
          PLAATSING_URL: urls.plaatsing,
        },
        { quiet: true },
      ),
    );
  }
  await Promise.all(Object.values(urls).map((url) => waitForReady(new URL('/ready', url).href)));

  // 4. Both gateways on the same supergraph.
  const supergraphFile = join(mkdtempSync(join(tmpdir(), 'ketengraph-bench-')), 'supergraph.graphql');
  const supergraph = composeSupergraph(urls);
  writeFileSync(supergraphFile, supergraph);
  // The bare gateway cannot load authorization links marked for security (it would not enforce them).
  const bareSupergraphFile = `${supergraphFile}.bare`;
  writeFileSync(bareSupergraphFile, withoutSecurityPurpose(supergraph));
  // Everything on as in production, except that the one benchmark organisation may exceed the per-organisation
  // rate limit (the limiter still runs; the benchmark measures capacity, not the limit); own audit and webhook data.
  const ketengraph = startProcess(
    'ketengraph gateway',
    'gateway/src/main.ts',
    {
      PORT: String(basePort),
      SUPERGRAPH_FILE: supergraphFile,
      AUDIT_DATA_DIR: join(dataRoot, 'gateway-audit'),
      WEBHOOK_DATA_DIR: join(dataRoot, 'gateway-webhooks'),
      RATE_LIMIT_PER_SECOND: '1000000',
    },
    { quiet: true },
  );
  const bare = startProcess(
    'bare @apollo/gateway',
    'test/bench/bare-gateway.ts',
    { PORT: String(basePort + 10), SUPERGRAPH_FILE: bareSupergraphFile },
    { quiet: true },
  );
  processes.push(ketengraph, bare);
  const targets = [
    { name: 'ketengraph', process: ketengraph, url: `http://127.0.0.1:${basePort}/graphql`, headers: callerAuthorization },
    { name: 'bare @apollo/gateway', process: bare, url: `http://127.0.0.1:${basePort + 10}/graphql`, headers: subgraphAuthorization },
  ];
  await waitForReady(`http://127.0.0.1:${basePort}/ready`);
  // Apollo Server 5 has no health route; a GET operation with the CSRF preflight header answers once it serves.
  await waitForReady(`http://127.0.0.1:${basePort + 10}/?query=%7B__typename%7D`, 30_000, { headers: { 'apollo-require-preflight': 'true' } });

  // 5. Random patients (fixed sample so both gateways get the same request stream).
  const ids = await samplePatientIds(urls.indicatiestelling!, 500);
  const bodies = ids.map((id) => JSON.stringify({ query, operationName: 'PatientTrajectory', variables: { id } }));
  for (const target of targets) {
    const sample = JSON.parse(await post(target.url, bodies[0]!, target.headers)) as { errors?: unknown[] };
    if (sample.errors) throw new Error(`The trajectory query fails on ${target.name}: ${JSON.stringify(sample.errors).slice(0, 500)}`);
  }

  // 6. Warm-up, then alternating measured rounds.
  for (const target of targets) await load({ url: target.url, bodies, connections, durationSeconds: 3, headers: target.headers });
  const results = new Map<string, { runs: LoadResult[]; statementsPerRequest: number[]; memory: number[] }>();
  const subgraphBases = Object.values(urls);
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const before = await sqlStatements(subgraphBases);
      const result = await load({ url: target.url, bodies, connections, durationSeconds, headers: target.headers });
      const statements = (await sqlStatements(subgraphBases)) - before;
      const entry = results.get(target.name) ?? { runs: [], statementsPerRequest: [], memory: [] };
      entry.runs.push(result);
      entry.statementsPerRequest.push(statements / Math.max(1, result.requests));
      entry.memory.push(await residentMemory(target.process.child.pid!));
      results.set(target.name, entry);
    }
  }

  // 7. Report.
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = [...results].map(([name, r]) => ({
    gateway: name,
    'req/s': mean(r.runs.map((x) => x.requestsPerSecond)).toFixed(1),
    'p50 ms': mean(r.runs.map((x) => x.latencyMs.p50)).toFixed(1),
    'p95 ms': mean(r.runs.map((x) => x.latencyMs.p95)).toFixed(1),
    'p99 ms': mean(r.runs.map((x) => x.latencyMs.p99)).toFixed(1),
    errors: r.runs.reduce((a, x) => a + x.errors, 0),
    'SQL/req': mean(r.statementsPerRequest).toFixed(2),
    'RSS MiB': (Math.max(...r.memory) / 1048576).toFixed(0),
  }));
  console.log(`\nWhole-trajectory query, ${patients} patients, ${connections} connections, ${rounds} × ${durationSeconds} s per gateway`);
  console.table(rows);
  const ours = mean(results.get('ketengraph')!.runs.map((x) => x.requestsPerSecond));
  const theirs = mean(results.get('bare @apollo/gateway')!.runs.map((x) => x.requestsPerSecond));
  console.log(`throughput ratio ketengraph / bare @apollo/gateway: ${(ours / theirs).toFixed(3)}`);
} finally {
  await stopAll();
}

async function samplePatientIds(indicatiestellingUrl: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  while (ids.length < Math.min(count * 4, patients)) {
    const response = JSON.parse(
      await post(
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

async function post(url: string, body: string, headers: Record<string, string>): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return response.text();
}

function load(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const jobFile = join(mkdtempSync(join(tmpdir(), 'ketengraph-load-')), 'job.json');
    writeFileSync(jobFile, JSON.stringify(job));
    const child = spawn(tsx, [join(repositoryRoot, 'test/bench/load.ts'), jobFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as LoadResult) : reject(new Error(`load generator exited with ${code}`))));
  });
}
