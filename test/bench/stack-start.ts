/**
 * The development stack as `npm start` runs it, for the benchmarks that measure it as deployed
 * (stack.ts, events.ts): four subgraphs and the gateway (its audit log and webhook store), each
 * its own process, on one embedded PostgreSQL server with a database per process (`postgres`, the
 * default of `npm start`) or an embedded PGlite in every process (`pglite`). Seeds each once
 * (`.data/bench-<N>-postgres` and `.data/bench-<N>`), and reads what each process costs from /proc.
 * The services run compiled from dist/, as `npm start` runs them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeSupergraph } from '../../schema/compose.js';
import { SUBGRAPHS } from '../../schema/subgraphs.js';
import { databaseName, startEmbeddedPostgres, type EmbeddedPostgres } from '../../scripts/embedded-postgres.js';
import { buildServices, compiled, repositoryRoot, startProcess, waitForReady, type ManagedProcess } from '../../scripts/processes.js';

export type StackEngine = 'postgres' | 'pglite';

/**
 * The runtime every process of a benchmark runs on (they are started with this Node): numbers
 * from another major version are not comparable — Node 24 needs about a third less CPU per
 * request than Node 20 for the same stack.
 */
export function benchRuntime(): string {
  const major = Number(process.versions.node.split('.')[0]);
  const supported = major === 22 || major === 24;
  return `Node ${process.version}${supported ? '' : ' — not a supported version (22 or 24): the numbers will not match the README'}`;
}

export interface StackOptions {
  engine: StackEngine;
  patients: number;
  /** The gateway's port; subgraphs at +1…+4, the embedded PostgreSQL server at +40. */
  basePort: number;
  /** Write a CPU profile of every subgraph process into `<profile>/<name>`. */
  profile?: string | undefined;
  /** Added to (and overriding) the gateway's environment. */
  gatewayEnv?: NodeJS.ProcessEnv;
  /** Node options of the gateway process (e.g. `--cpu-prof`). */
  gatewayNodeArgs?: string[];
  /** false: the subgraphs (and the database server) only, for a caller that starts its own gateways (`npm run bench`). */
  gateway?: boolean;
}

export interface Stack {
  /** Each subgraph's GraphQL URL, by name. */
  urls: Record<string, string>;
  /** The gateway's GraphQL URL. */
  gatewayUrl: string;
  processes: ManagedProcess[];
  server: EmbeddedPostgres | undefined;
  /** On the embedded PostgreSQL server: each process's database URL (`gateway-audit`, `gateway-webhooks`, the subgraphs'), by name. */
  databaseUrls: Record<string, string>;
  /** The access log's checkpoint file that belongs with its database. */
  auditCheckpointFile: string;
  /** Seconds from starting the processes until every one answered /ready. */
  startSeconds: number;
  /** The processes to measure (each service, and the database server), by name: every pid of each now. */
  measured: { name: string; pids: () => number[] }[];
  stop(): Promise<void>;
}

const envPrefix = (name: string) => name.toUpperCase().replaceAll('-', '_');
const processNames = [...SUBGRAPHS.map((s) => s.name), 'gateway-audit', 'gateway-webhooks'];

export async function startStack(options: StackOptions): Promise<Stack> {
  const { engine, patients, basePort } = options;
  const tsx = join(repositoryRoot, 'node_modules/.bin/tsx');
  const dataRoot = join(repositoryRoot, '.data', `bench-${patients}`);

  // Seeded databases, reused across runs of the same size.
  let server: EmbeddedPostgres | undefined;
  const databaseUrls: Record<string, string> = {};
  const seedEnv: NodeJS.ProcessEnv = { ...process.env };
  const seed = (env: NodeJS.ProcessEnv) => {
    console.log(`Seeding ${patients} patients (${engine}) …`);
    execFileSync(tsx, ['scripts/seed.ts', '--patients', String(patients)], {
      cwd: repositoryRoot,
      env: { ...env, EMBEDDED_DATABASE: 'pglite' },
      stdio: 'inherit',
    });
  };
  if (engine === 'postgres') {
    const dir = `${dataRoot}-postgres`;
    const seeded = existsSync(join(dir, 'PG_VERSION'));
    server = await startEmbeddedPostgres({ dir, port: basePort + 40 });
    for (const name of processNames) {
      await server.ensureDatabase(databaseName(name));
      databaseUrls[name] = server.url(databaseName(name));
      seedEnv[`${envPrefix(name)}_DATABASE_URL`] = databaseUrls[name];
    }
    if (!seeded) seed(seedEnv);
  } else if (!existsSync(join(dataRoot, 'seeded'))) {
    for (const { name } of SUBGRAPHS) seedEnv[`${envPrefix(name)}_DATA_DIR`] = join(dataRoot, name);
    seed(seedEnv);
    writeFileSync(join(dataRoot, 'seeded'), String(patients));
  }

  // The services compiled, as npm start runs them (built when the sources changed).
  buildServices();
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await server?.stop();
  };
  process.on('SIGINT', () => void stop().then(() => process.exit(130)));

  try {
    const urls: Record<string, string> = {};
    SUBGRAPHS.forEach(({ name }, i) => (urls[name] = `http://127.0.0.1:${basePort + 1 + i}/graphql`));
    const started = performance.now();
    for (const { name } of SUBGRAPHS) {
      const url = databaseUrls[name];
      processes.push(
        startProcess(
          name,
          compiled(`subgraphs/${name}/src/main.ts`),
          {
            PORT: new URL(urls[name]!).port,
            ...(url ? { DATABASE_URL: url } : { DATA_DIR: join(dataRoot, name) }),
            SEED_PATIENTS: '0',
            INDICATIESTELLING_URL: urls.indicatiestelling,
            PLAATSING_URL: urls.plaatsing,
            LOG_LEVEL: 'warn',
          },
          { quiet: true, ...(options.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(options.profile, name)}`] } : {}) },
        ),
      );
    }
    const auditCheckpointFile = server ? `${dataRoot}-postgres-gateway-audit-checkpoints.jsonl` : `${join(dataRoot, 'gateway-audit')}-checkpoints.jsonl`;
    const supergraphFile = join(mkdtempSync(join(tmpdir(), 'ketengraph-stack-')), 'supergraph.graphql');
    writeFileSync(supergraphFile, composeSupergraph(urls));
    const withGateway = options.gateway ?? true;
    const gateway =
      withGateway &&
      startProcess(
        'gateway',
        compiled('gateway/src/main.ts'),
        {
          PORT: String(basePort),
          SUPERGRAPH_FILE: supergraphFile,
          ...(server
            ? {
                AUDIT_DATABASE_URL: databaseUrls['gateway-audit'],
                WEBHOOK_DATABASE_URL: databaseUrls['gateway-webhooks'],
                AUDIT_CHECKPOINT_FILE: auditCheckpointFile,
              }
            : { AUDIT_DATA_DIR: join(dataRoot, 'gateway-audit'), WEBHOOK_DATA_DIR: join(dataRoot, 'gateway-webhooks') }),
          RATE_LIMIT_PER_SECOND: '1000000',
          LOG_LEVEL: 'warn',
          ...options.gatewayEnv,
        },
        { quiet: true, ...(options.gatewayNodeArgs ? { nodeArgs: options.gatewayNodeArgs } : {}) },
      );
    if (gateway) processes.push(gateway);
    await Promise.all([
      ...Object.values(urls).map((url) => waitForReady(new URL('/ready', url).href)),
      ...(gateway ? [waitForReady(`http://127.0.0.1:${basePort}/ready`)] : []),
    ]);
    const startSeconds = (performance.now() - started) / 1000;
    return {
      urls,
      gatewayUrl: `http://127.0.0.1:${basePort}/graphql`,
      processes,
      server,
      databaseUrls,
      auditCheckpointFile,
      startSeconds,
      measured: [
        ...processes.map((p) => ({ name: p.name, pids: () => tree(p.child.pid!) })),
        ...(server?.process ? [{ name: 'postgres server', pids: () => tree(server!.process!.child.pid!) }] : []),
      ],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A process and all its descendants. */
export function tree(pid: number): number[] {
  const children = readdirSafe(`/proc/${pid}/task`).flatMap((task) => readSafe(`/proc/${pid}/task/${task}/children`).split(/\s+/).filter(Boolean).map(Number));
  return [pid, ...children.flatMap(tree)];
}

/**
 * User + system CPU time of the given processes, in milliseconds (clock ticks are 10 ms on Linux),
 * with that of their children that exited (cutime, cstime: a database server's connection processes).
 */
export function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readSafe(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  }
  return ticks * 10;
}

/** Proportional set size: resident memory with pages shared between processes (PostgreSQL's shared buffers) divided among them, so sums add up. */
export function memoryBytes(pid: number): number {
  const match = /^Pss:\s+(\d+) kB/m.exec(readSafe(`/proc/${pid}/smaps_rollup`));
  return match ? Number(match[1]) * 1024 : 0;
}

function readSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
