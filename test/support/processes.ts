/**
 * Starts the system's processes for the benchmark and process-level tests: each subgraph and
 * gateway as a child process, as in production, with readiness polling and clean shutdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsx = `${repositoryRoot}node_modules/.bin/tsx`;

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startProcess(name: string, entry: string, env: NodeJS.ProcessEnv, options: { quiet?: boolean } = {}): ManagedProcess {
  const child = spawn(tsx, [entry], { cwd: repositoryRoot, env: { ...process.env, ...env }, stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit'] });
  return {
    name,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

export async function waitForReady(url: string, timeoutMs = 120_000, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fetch(url, { headers, signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} not ready within ${timeoutMs / 1000} s`);
}

/** Resident memory of a process in bytes, from /proc (Linux). */
export async function residentMemory(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
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
