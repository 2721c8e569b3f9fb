/**
 * The production build (`npm run build`) run as it is deployed: compiled JavaScript, one plain
 * `node` process per service, NODE_ENV=production, PostgreSQL databases (a database per subgraph,
 * the access log's and the webhook store's), keys and identity provider given by configuration,
 * trusted documents enforced. `.ci/run` starts the PostgreSQL server (TEST_DATABASE_URL).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generatePrivateJwk, importSigningKey, publicJwks } from '@ketengraph/service-kit';
import { mintTestToken } from '@ketengraph/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, TEST_AUDIENCE, TEST_ISSUER, TEST_PRINCIPAL } from './support/federation.js';
import { createDatabases, postgresUrl } from './support/postgres.js';

const root = new URL('../', import.meta.url).pathname;
const SUBGRAPHS = ['indicatiestelling', 'plaatsing', 'forensisch-cv', 'kwaliteit'] as const;
const envName = (name: string) => name.toUpperCase().replaceAll('-', '_');

interface Service {
  name: string;
  child: ChildProcess;
  output: string[];
}

describe.skipIf(!postgresUrl)('the production build on PostgreSQL', () => {
  const services: Service[] = [];
  let drop: (() => Promise<void>) | undefined;
  let keysDir: string;
  let gatewayUrl: string;
  let issuer: Awaited<ReturnType<typeof importSigningKey>>;
  const documents = new Map<string, string>();

  function start(name: string, entry: string, env: Record<string, string>): Service {
    const child = spawn(process.execPath, [join(root, 'dist', entry)], {
      cwd: tmpdir(),
      env: { NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = { name, child, output: [] as string[] };
    child.stdout!.on('data', (chunk: Buffer) => service.output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => service.output.push(chunk.toString()));
    services.push(service);
    return service;
  }

  /** Waits for /ready as long as the process lives: a slow machine takes longer, a failed start ends the wait at once. */
  async function ready(service: Service, url: string): Promise<void> {
    while (service.child.exitCode === null) {
      if (
        await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${service.name} exited (${service.child.exitCode}):\n${service.output.join('').slice(-2000)}`);
  }

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root });
    const databases = await createDatabases([...SUBGRAPHS, 'audit', 'webhooks'] as const);
    drop = databases.drop;
    // The identity provider's public key, and the deployment's own keys as an operator makes them (`npm run keys`).
    keysDir = mkdtempSync(join(tmpdir(), 'ketengraph-production-'));
    await promisify(execFile)(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'keys.ts'), keysDir], { cwd: root });
    const issuerJwk = await generatePrivateJwk();
    issuer = await importSigningKey(issuerJwk);
    writeFileSync(join(keysDir, 'issuer-jwks.json'), JSON.stringify(publicJwks(issuerJwk)));

    const ports = Object.fromEntries(await Promise.all(SUBGRAPHS.map(async (name) => [name, await freePort()] as const))) as Record<
      (typeof SUBGRAPHS)[number],
      number
    >;
    const urls = Object.fromEntries(SUBGRAPHS.map((name) => [`${envName(name)}_URL`, `http://127.0.0.1:${ports[name]}/graphql`]));
    const subgraphs = SUBGRAPHS.map((name) => {
      const env = {
        ...urls,
        PORT: String(ports[name]),
        DATABASE_URL: databases.urls[name],
        SEED_PATIENTS: '20',
        GATEWAY_PUBLIC_KEY_FILE: join(keysDir, 'gateway-jwks.json'),
      };
      return { name, service: start(name, `subgraphs/${name}/src/main.js`, env) };
    });
    await Promise.all(subgraphs.map(({ name, service }) => ready(service, `http://127.0.0.1:${ports[name]}/ready`)));
    const gatewayPort = await freePort();
    const gateway = start('gateway', 'gateway/src/main.js', {
      ...urls,
      PORT: String(gatewayPort),
      AUTH_ISSUER: TEST_ISSUER,
      AUTH_AUDIENCE: TEST_AUDIENCE,
      AUTH_JWKS_FILE: join(keysDir, 'issuer-jwks.json'),
      GATEWAY_SIGNING_KEY_FILE: join(keysDir, 'gateway-signing-key.json'),
      AUDIT_SEAL_KEY_FILE: join(keysDir, 'audit-seal-key'),
      AUDIT_CHECKPOINT_FILE: join(keysDir, 'audit-checkpoints.jsonl'),
      AUDIT_DATABASE_URL: databases.urls.audit,
      WEBHOOK_DATABASE_URL: databases.urls.webhooks,
    });
    gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
    await ready(gateway, `http://127.0.0.1:${gatewayPort}/ready`);
    const manifest = JSON.parse(readFileSync(join(root, 'gateway/src/admission/trusted-documents/generated/manifest.json'), 'utf8')) as {
      operations: { id: string; name: string }[];
    };
    for (const operation of manifest.operations) documents.set(operation.name, operation.id);
  }, 600_000);

  afterAll(async () => {
    await Promise.all(
      services.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    );
    await drop?.();
    if (keysDir) rmSync(keysDir, { recursive: true, force: true });
  }, 60_000);

  async function post(
    body: Record<string, unknown>,
  ): Promise<{ status: number; body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } }> {
    const token = await mintTestToken({ signingKey: issuer, jwks: issuer.jwks }, TEST_PRINCIPAL, {
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      expiresInSeconds: 60,
    });
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as never };
  }

  it('answers registered operations across all four subgraphs by document id', async () => {
    const list = await post({ documentId: `sha256:${documents.get('PatientsTrajectories')}`, variables: { first: 2 } });
    expect(list.body.errors).toBeUndefined();
    const id = list.body.data.patients.edges[0].node.id as string;
    const trajectory = await post({ documentId: `sha256:${documents.get('PatientTrajectory')}`, operationName: 'PatientTrajectory', variables: { id } });
    expect(trajectory.status).toBe(200);
    expect(trajectory.body.errors).toBeUndefined();
    expect(trajectory.body.data.patient.id).toBe(id);
    expect(trajectory.body.data.patient.trajectories.totalCount).toBeGreaterThan(0);
  });

  it('runs with production defaults: only trusted documents, no introspection, no explorer', async () => {
    const adHoc = await post({ query: '{ __schema { types { name } } }' });
    expect(adHoc.status).toBe(400);
    expect(adHoc.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect((await fetch(new URL('/explorer', gatewayUrl))).status).toBe(404);
    const health = await fetch(new URL('/health', gatewayUrl));
    expect(health.status).toBe(200);
  });

  it('refuses to start in production without an identity provider', async () => {
    const port = await freePort();
    const refused = start('gateway without identity provider', 'gateway/src/main.js', {
      PORT: String(port),
      GATEWAY_SIGNING_KEY_FILE: join(keysDir, 'gateway-signing-key.json'),
    });
    const code = await new Promise<number | null>((resolve) => refused.child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(refused.output.join('')).toContain('AUTH_ISSUER');
  });

  it('builds again only when an input changed; built services keep development state in the checkout, as npm start runs them', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root });
    expect(stdout).toContain('dist/ up to date');
    const paths = join(root, 'dist', 'packages', 'service-kit', 'src', 'paths.js');
    const printed = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      `const p = await import(${JSON.stringify(paths)}); console.log(JSON.stringify(p));`,
    ]);
    expect(JSON.parse(printed.stdout)).toEqual({ repositoryRoot: join(root, 'dist/'), dataRoot: join(root, '.data') });
  });
});
