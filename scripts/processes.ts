/**
 * Starts the system's processes for `npm start` and the benchmark: each subgraph and the gateway
 * as a child process of its own, with readiness polling and clean shutdown.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../', import.meta.url));
const tsx = `${repositoryRoot}node_modules/.bin/tsx`;

/**
 * The compiled services in dist/ (`npm run build`, which, like `npm run generate`, does nothing
 * when its inputs have not changed since the last run), run with plain `node`: under tsx every service kept its
 * modules' sources and source maps and a loader thread, about twice the memory.
 */
export function buildServices(): void {
  for (const script of ['generate.mjs', 'build.mjs'])
    execFileSync(process.execPath, [`${repositoryRoot}scripts/${script}`], { cwd: repositoryRoot, stdio: 'inherit' });
}

/** The compiled entry point in dist/ of a source file (`gateway/src/main.ts` → `dist/gateway/src/main.js`). */
export const compiled = (source: string): string => `dist/${source.replace(/\.ts$/, '.js')}`;

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Runs `entry` in a process of its own: JavaScript (`.js`, `.mjs`: compiled, or written so) with node, TypeScript with tsx. */
export function startProcess(name: string, entry: string, env: NodeJS.ProcessEnv, options: { quiet?: boolean; nodeArgs?: string[] } = {}): ManagedProcess {
  // Its own process group: tsx runs the service as a child process, and stopping must reach both.
  const child = spawn(/\.m?js$/.test(entry) ? process.execPath : tsx, [...(options.nodeArgs ?? []), entry], {
    cwd: repositoryRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit'],
    detached: true,
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  return {
    name,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        signal('SIGTERM');
        setTimeout(() => signal('SIGKILL'), 10_000).unref();
      }),
  };
}

export interface WaitOptions {
  headers?: Record<string, string>;
  /** Called every `progressEveryMs` while waiting, with the time waited so far. */
  onProgress?: (waitedMs: number) => void;
  progressEveryMs?: number;
  /** The process being waited for: a process that exited will not become ready, so the wait ends at once. */
  process?: ManagedProcess;
}

export async function waitForReady(
  url: string,
  timeoutMs = 120_000,
  { headers = {}, onProgress, progressEveryMs = 10_000, process: managed }: WaitOptions = {},
): Promise<void> {
  const started = Date.now();
  let reported = started;
  while (Date.now() - started < timeoutMs) {
    if (
      await fetch(url, { headers, signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    if (managed && (managed.child.exitCode !== null || managed.child.signalCode !== null)) throw new Error(`${managed.name} exited before it was ready`);
    if (onProgress && Date.now() - reported >= progressEveryMs) {
      reported = Date.now();
      onProgress(reported - started);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} not ready within ${Math.round(timeoutMs / 1000)} s`);
}

/**
 * Resident memory of the largest process in a process tree, from /proc (Linux): the services run
 * under a small tsx launcher, so the service itself is its largest descendant.
 */
export async function residentMemory(pid: number): Promise<number> {
  const { readFile, readdir } = await import('node:fs/promises');
  const rss = async (id: number) => {
    const status = await readFile(`/proc/${id}/status`, 'utf8').catch(() => '');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  };
  const children = async (id: number): Promise<number[]> => {
    const tasks = await readdir(`/proc/${id}/task`).catch(() => [] as string[]);
    const lists = await Promise.all(tasks.map((task) => readFile(`/proc/${id}/task/${task}/children`, 'utf8').catch(() => '')));
    return lists.join(' ').split(/\s+/).filter(Boolean).map(Number);
  };
  let largest = await rss(pid);
  for (const child of await children(pid)) largest = Math.max(largest, await residentMemory(child));
  return largest;
}

/** Sum of `ketengraph_sql_statements_total` over the given subgraph base URLs. */
export async function sqlStatements(baseUrls: string[]): Promise<number> {
  let total = 0;
  for (const base of baseUrls) {
    const text = await (await fetch(new URL('/metrics', base))).text();
    const match = /ketengraph_sql_statements_total\{[^}]*\} (\d+)/.exec(text);
    total += match ? Number(match[1]) : 0;
  }
  return total;
}

/**
 * CPU time (user + system, milliseconds) of a process tree so far, from /proc (Linux): the
 * service and its tsx launcher (whose own share is negligible).
 */
export async function cpuTime(pid: number): Promise<number> {
  const { readFile, readdir } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces) start at its closing parenthesis; utime and
  // stime are fields 14 and 15, cutime and cstime (children that exited: a database server's
  // connection processes) 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')));
  const children = lists.join(' ').split(/\s+/).filter(Boolean).map(Number);
  let total = ticks * 10; // USER_HZ is 100 on Linux
  for (const child of children) total += await cpuTime(child);
  return total;
}
