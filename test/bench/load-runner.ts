/**
 * What the benchmarks (run.ts, stack.ts) share to drive load: the load generator (load.ts) in a
 * process of its own, so that its CPU is not counted as the gateway's or a subgraph's, and one POST.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot } from '../../scripts/processes.js';
import type { LoadJob, LoadResult } from './load.js';

/** Runs one load job in a child process and returns what it measured. */
export function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const jobFile = join(mkdtempSync(join(tmpdir(), 'ketengraph-load-')), 'job.json');
    writeFileSync(jobFile, JSON.stringify(job));
    const tsx = join(repositoryRoot, 'node_modules/.bin/tsx');
    const child = spawn(tsx, [join(repositoryRoot, 'test/bench/load.ts'), jobFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as LoadResult) : reject(new Error(`load generator exited with ${code}`))));
  });
}

/** POSTs a JSON body and returns the answer's text. */
export async function postText(url: string, body: string, headers: Record<string, string>): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return response.text();
}
