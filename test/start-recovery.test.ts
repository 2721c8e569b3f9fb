/**
 * Every start recovers: the gateway, killed (SIGKILL) while it creates its embedded access-log
 * database on a first start, starts the next time; a database directory it cannot open (made
 * half by an older version, damaged) is never replaced: the gateway refuses to start and says
 * which directory and what to do. Real processes, real files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePrivateJwk, importSigningKey } from '@ketengraph/service-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from './support/federation.js';

const root = fileURLToPath(new URL('../', import.meta.url));
let dir: string;
let env: NodeJS.ProcessEnv;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ketengraph-start-'));
  const issuer = await importSigningKey(await generatePrivateJwk());
  writeFileSync(join(dir, 'issuer-jwks.json'), JSON.stringify(issuer.jwks));
  writeFileSync(join(dir, 'gateway-key.json'), JSON.stringify(await generatePrivateJwk()));
  env = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    AUTH_ISSUER: 'https://idp.test.ketengraph.example',
    AUTH_JWKS_FILE: join(dir, 'issuer-jwks.json'),
    GATEWAY_SIGNING_KEY_FILE: join(dir, 'gateway-key.json'),
    EXPLORER_ENABLED: 'false',
    SUPERGRAPH_POLL_MS: '0',
    AUDIT_DATA_DIR: join(dir, 'audit'),
    WEBHOOK_DATA_DIR: join(dir, 'webhooks'),
    LOG_LEVEL: 'info',
  };
});

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startGatewayProcess(port: number): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
    cwd: root,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ready = (port: number) =>
  fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.ok,
    () => false,
  );

it('killed while creating its embedded database, the gateway starts the next time', async () => {
  const audit = env.AUDIT_DATA_DIR!;
  const port = await freePort();
  const first = startGatewayProcess(port);
  // The database is being made aside: kill the process in the middle of it.
  await until(() => existsSync(`${audit}.creating`) && readdirSync(`${audit}.creating`).length > 0, 120_000, 'the creation to begin');
  first.child.kill('SIGKILL');
  await first.exited;
  expect(existsSync(audit) && readdirSync(audit).length > 0, 'nothing half-made in place').toBe(false);

  const second = startGatewayProcess(port);
  await until(() => ready(port), 180_000, `the restarted gateway to be ready\n${second.output()}`);
  const body = (await (await fetch(`http://127.0.0.1:${port}/ready`)).json()) as { checks?: Record<string, boolean> };
  expect(JSON.stringify(body)).toContain('"auditLog":true');
  expect(existsSync(`${audit}.creating`)).toBe(false);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
}, 400_000);

it('a database directory that cannot be opened is not replaced: the gateway refuses, naming it and the way out', async () => {
  const broken = join(dir, 'broken-audit');
  mkdirSync(broken);
  writeFileSync(join(broken, 'PG_VERSION'), 'not a database\n');
  env.AUDIT_DATA_DIR = broken;
  const attempt = startGatewayProcess(await freePort());
  expect(await attempt.exited).not.toBe(0);
  expect(attempt.output()).toContain(`The embedded database in ${broken} cannot be opened`);
  expect(attempt.output()).toContain(`rm -rf ${broken}`);
  expect(attempt.output()).not.toContain('[object Object]');
  expect(readdirSync(broken)).toEqual(['PG_VERSION']); // untouched
}, 200_000);
