/**
 * `npm run federation-audit -- --suite <checkout> [--gateways ketengraph,apollo-gateway] [--test <suite id>] [--port 6100] [--compare]`
 *
 * Runs The Guild's federation-gateway-audit (github.com/graphql-hive/federation-gateway-audit, a
 * checkout outside this repository with its own `npm install`; not part of `npm test`) against
 * ketengraph's gateway and, as the baseline, against a bare @apollo/gateway (the suite's own
 * `gateways/apollo-gateway` adapter), and prints both scores with every failing test case.
 *
 * The suite starts its subgraphs on :4200, and for each test suite runs a gateway's run script,
 * waits for its health check and sends the suite's queries, comparing `data` and whether there
 * were errors. This script plays ketengraph's run script (`serve`): it takes the supergraph the
 * suite hands it and starts ketengraph's real gateway (`loadGatewayConfig` + `startGateway`, the
 * code `npm start` runs) on it, configured only through the documented environment variables:
 *
 * - Authentication stays on. The suite's client sends no token, so the gateway would answer 401.
 *   The gateway trusts a test identity provider made for the run (AUTH_ISSUER and AUTH_JWKS_FILE
 *   with a key pair generated in memory, as a deployment names its own identity provider), and a
 *   small proxy in front of it (the port the suite talks to) adds that provider's token to every
 *   request that carries none — the caller a deployment would have. Nothing in the gateway is
 *   bypassed: it verifies signature, issuer, audience and expiry as always.
 * - The caller is the least privileged role, `beleid` (aggregate data only, no write scopes). The
 *   suite's supergraphs carry no `@policy` and none of the access policy's patient types, so none
 *   of their fields is classified: ketengraph's field-level authorization gives unclassified
 *   fields of non-patient types to every authenticated caller, whatever the role. Authorization
 *   still rewrites and completes every operation (that code path is what is audited here).
 * - Request limits, the rate limiter, subgraph deadlines, retries, circuit breakers and in-flight
 *   de-duplication are the defaults; the access log runs in memory (AUDIT_DATA_DIR=memory://:
 *   the same code as on disk; no record is written, no field being patient data).
 * - Development defaults otherwise: with NODE_ENV=production, trusted documents would refuse the
 *   suite's ad-hoc documents (by design), so the suite runs without it. The explorer is off.
 *
 * The baseline runs the suite's apollo-gateway adapter (its run.ts, Apollo Server + @apollo/gateway
 * from the suite's own node_modules) with one change: it listens on `--port`+1 instead of 4000,
 * because the suite kills whatever listens on a gateway's port before each test suite.
 *
 * `--compare` goes further than the suite's own check (it compares `data` and only whether there
 * were errors): it runs both gateways side by side on each test suite, sends every query to both
 * and compares the whole answers (data exactly, errors by count and path), and sends each query to
 * ketengraph three times at once (identical subgraph fetches of one caller are shared in flight).
 * Mutations are left to the suite's own run: both gateways share the subgraphs' state.
 *
 * Needs Node 22 or later (the suite does). Ports: the suite's 4200, ours from `--port` (6100): the
 * suite's client talks to 6100 (ketengraph) and 6101 (bare gateway). The adapters' folders,
 * results and logs go to `<checkout>/.ketengraph-audit/<gateway>/` (`logs/<suite>-tests.log`:
 * every failing case with its query and diff; `logs/<suite>-gateway.log`: the gateway's output).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SUITE_PORT = 4200;
const ISSUER = 'https://idp.federation-audit.ketengraph.example';
const AUDIENCE = 'ketengraph';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    suite: { type: 'string' },
    gateways: { type: 'string', default: 'ketengraph,apollo-gateway' },
    test: { type: 'string' },
    port: { type: 'string', default: '6100' },
    compare: { type: 'boolean', default: false },
  },
});
const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1024 || port > 65_000) fail('--port is the first of two free ports (default 6100).');

if (positionals[0] === 'serve') await serve(values.test ?? fail('serve needs --test <suite id>'), port);
else if (values.compare) await compare(checkedSuite());
else await audit(checkedSuite());

/** ketengraph's run script: the supergraph of one test suite, the gateway on it, the token proxy in front. */
async function serve(test: string, listenPort: number): Promise<void> {
  const { loadGatewayConfig, startGateway } = await import('@ketengraph/gateway');
  const { generatePrivateJwk, loadAccessPolicy } = await import('@ketengraph/service-kit');
  const { createTestKeyPair, mintTestToken } = await import('@ketengraph/service-kit/testing');
  const answer = await fetch(`http://127.0.0.1:${SUITE_PORT}/${encodeURIComponent(test)}/supergraph`);
  if (!answer.ok) fail(`The suite has no supergraph for ${test} (HTTP ${answer.status}); is it serving on :${SUITE_PORT}?`);

  const dir = mkdtempSync(join(tmpdir(), 'ketengraph-federation-audit-'));
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
    return path;
  };
  const issuer = await createTestKeyPair();
  const config = loadGatewayConfig({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    SUPERGRAPH_FILE: file('supergraph.graphql', await answer.text()),
    SUPERGRAPH_POLL_MS: '0',
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_JWKS_FILE: file('issuer-jwks.json', issuer.jwks),
    GATEWAY_SIGNING_KEY_FILE: file('gateway-key.json', await generatePrivateJwk()),
    AUDIT_DATA_DIR: 'memory://',
    WEBHOOK_DATA_DIR: 'memory://',
    EXPLORER_ENABLED: 'false',
  });
  const gateway = await startGateway(config);

  const role = 'beleid';
  const principal = {
    subject: 'federation-audit',
    organisationId: 'federation-audit',
    role,
    scopes: [],
    purpose: loadAccessPolicy().rolePurposes[role]?.[0] ?? null,
  };
  let token = { value: '', mintedAt: 0 };
  const bearer = async () => {
    if (Date.now() - token.mintedAt > 10 * 60_000)
      token = { value: await mintTestToken(issuer, principal, { issuer: ISSUER, audience: AUDIENCE, expiresInSeconds: 3600 }), mintedAt: Date.now() };
    return `Bearer ${token.value}`;
  };
  const proxy = createServer(async (incoming, outgoing) => {
    const headers = { ...incoming.headers, authorization: incoming.headers.authorization ?? (await bearer()) };
    const upstream = httpRequest({ host: '127.0.0.1', port: gateway.port, method: incoming.method, path: incoming.url, headers }, (answered) => {
      outgoing.writeHead(answered.statusCode ?? 502, answered.headers);
      answered.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(upstream);
  });
  await new Promise<void>((done, refused) => proxy.once('error', refused).listen(listenPort, '127.0.0.1', done));
  console.log(`ketengraph's gateway for ${test} on http://127.0.0.1:${listenPort}/graphql (token proxy; gateway on :${gateway.port})`);

  const stop = () => {
    proxy.close();
    proxy.closeAllConnections();
    gateway.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

interface SuiteResult {
  id: string;
  cases: { name: string; passed: boolean; reason: string }[];
}

function checkedSuite(): string {
  const suite = resolve(values.suite ?? fail('--suite <checkout of graphql-hive/federation-gateway-audit> is required.'));
  const manifest = existsSync(join(suite, 'package.json')) ? (JSON.parse(readFileSync(join(suite, 'package.json'), 'utf8')) as { name?: string }) : {};
  if (manifest.name !== '@graphql-hive/federation-gateway-audit') fail(`${suite} is not a checkout of graphql-hive/federation-gateway-audit.`);
  if (!existsSync(join(suite, 'node_modules'))) fail(`Install the suite's dependencies first: cd ${suite} && npm install`);
  if (Number(process.versions.node.split('.')[0]) < 22) fail(`The suite needs Node 22 or later (this is ${process.version}).`);
  return suite;
}

/** The suite kills whatever listens on a gateway's port before each test suite: never let that be someone else's process. */
async function ensureFree(): Promise<void> {
  for (const taken of [SUITE_PORT, port, port + 1])
    if (
      await fetch(`http://127.0.0.1:${taken}/`).then(
        () => true,
        () => false,
      )
    )
      fail(`Port ${taken} is taken; stop what listens there, or choose --port.`);
}

/** Runs the suite against each gateway asked for, then prints the scores and the differences. */
async function audit(suite: string): Promise<void> {
  await ensureFree();
  const chosen = values.gateways.split(',').map((name) => name.trim());
  const unknown = chosen.find((name) => name !== 'ketengraph' && name !== 'apollo-gateway');
  if (unknown) fail(`Unknown gateway ${unknown}: ketengraph, apollo-gateway.`);
  const results = new Map<string, { suites: SuiteResult[]; seconds: number; load: string }>();
  for (const [index, name] of chosen.entries()) {
    const gatewayPort = port + (name === 'ketengraph' ? 0 : 1);
    const dir = adapter(suite, name, gatewayPort);
    rmSync(join(dir, 'logs'), { recursive: true, force: true });
    const args = values.test ? ['test-suite', '--test', values.test, '--reporter', 'dot'] : ['test', '--write', 'results.txt'];
    console.log(`\n${name}${index ? '' : ` (suite ${suite}, Node ${process.version})`}`);
    const started = Date.now();
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    await new Promise<void>((done) => {
      const child = spawn(
        'npm',
        [
          'start',
          '-s',
          '--',
          ...args,
          '--cwd',
          dir,
          '--run-script',
          './run.sh',
          '--graphql',
          `http://127.0.0.1:${gatewayPort}/graphql`,
          '--healthcheck',
          `http://127.0.0.1:${gatewayPort}/health`,
          '--port',
          String(SUITE_PORT),
        ],
        // ketengraph's gateway starts in a few seconds on a busy machine; the suite's default wait is 5 s.
        { cwd: suite, stdio: 'inherit', env: { ...process.env, GATEWAY_TIMEOUT: process.env.GATEWAY_TIMEOUT ?? '60000' } },
      );
      child.once('exit', () => done());
    });
    results.set(name, { suites: readResults(join(dir, 'logs')), seconds: (Date.now() - started) / 1000, load });
  }

  console.log(`\nfederation-gateway-audit, ${new Date().toISOString()}, Node ${process.version}`);
  for (const [name, { suites, seconds, load }] of results) {
    const cases = suites.flatMap((s) => s.cases);
    const passedSuites = suites.filter((s) => s.cases.length > 0 && s.cases.every((c) => c.passed)).length;
    console.log(
      `\n${name}: ${cases.filter((c) => c.passed).length}/${cases.length} test cases, ${passedSuites}/${suites.length} test suites` +
        ` (${seconds.toFixed(0)} s; load average at start ${load})`,
    );
    for (const failed of cases.filter((c) => !c.passed)) console.log(`  ✗ ${failed.name}: ${failed.reason}`);
  }
  const [ketengraph, apollo] = [results.get('ketengraph'), results.get('apollo-gateway')];
  if (ketengraph && apollo) {
    const failing = (r: typeof ketengraph) => new Set(r.suites.flatMap((s) => s.cases.filter((c) => !c.passed).map((c) => c.name)));
    const [k, a] = [failing(ketengraph), failing(apollo)];
    console.log(`\nfailing in ketengraph only: ${[...k].filter((n) => !a.has(n)).join(', ') || 'none'}`);
    console.log(`failing in the bare @apollo/gateway only: ${[...a].filter((n) => !k.has(n)).join(', ') || 'none'}`);
  }
  const failures = [...results.values()].some((r) => r.suites.some((s) => s.cases.length === 0));
  if (failures) console.log('\nA test suite reported no cases: see its logs (the gateway may not have started).');
}

/** The adapter folder the suite runs a gateway from: its run.sh (and for the baseline, the suite's run.ts on our port). */
function adapter(suite: string, name: string, gatewayPort: number): string {
  const dir = join(suite, '.ketengraph-audit', name);
  mkdirSync(dir, { recursive: true });
  const runScript =
    name === 'ketengraph'
      ? // Written by ketengraph's scripts/federation-audit.ts: ketengraph's gateway for test suite $1.
        `#!/bin/sh\nexec "${join(ROOT, 'node_modules/.bin/tsx')}" "${join(ROOT, 'scripts/federation-audit.ts')}" serve --test "$1" --port ${gatewayPort}\n`
      : // The suite's own run.sh, with tsx run directly: npx does not pass the suite's SIGTERM on, which left the last gateway running.
        `#!/bin/sh\nset -e\n(cd "${suite}" && npm start -s -- supergraph --cwd "${dir}" --test "$1" --port ${SUITE_PORT})\nexec "${join(suite, 'node_modules/.bin/tsx')}" ./run.ts\n`;
  writeFileSync(join(dir, 'run.sh'), runScript);
  chmodSync(join(dir, 'run.sh'), 0o755);
  if (name === 'apollo-gateway') {
    const original = readFileSync(join(suite, 'gateways/apollo-gateway/run.ts'), 'utf8');
    if (!original.includes('port: 4000'))
      fail("The suite's gateways/apollo-gateway/run.ts no longer listens on `port: 4000`; adapt scripts/federation-audit.ts.");
    writeFileSync(join(dir, 'run.ts'), original.replace('port: 4000', `port: ${gatewayPort}`));
  }
  return dir;
}

/** Each test suite's cases from the suite's TAP log: `ok`/`not ok N - <suite>_<i>`, with the first lines of a failure's diff. */
function readResults(logs: string): SuiteResult[] {
  if (!existsSync(logs)) return [];
  const results: SuiteResult[] = [];
  for (const file of readdirSync(logs)
    .filter((f) => f.endsWith('-tests.log'))
    .sort()) {
    const id = file.slice(0, -'-tests.log'.length);
    const lines = readFileSync(join(logs, file), 'utf8').split('\n');
    const cases: SuiteResult['cases'] = [];
    lines.forEach((line, index) => {
      const match = /^\s*(not ok|ok) \d+ - (\S+_\d+)\s*$/.exec(line);
      if (!match) return;
      const passed = match[1] === 'ok';
      cases.push({ name: match[2]!, passed, reason: passed ? '' : reasonAt(lines, index + 1) });
    });
    results.push({ id, cases });
  }
  return results;
}

/** A failure's diff, condensed: the lines that differ (`-` expected, `+` received), or the error's first line. */
function reasonAt(lines: string[], from: number): string {
  const block: string[] = [];
  for (let i = from; i < lines.length && !/^\s*(not ok|ok) \d+ - /.test(lines[i]!); i++) block.push(lines[i]!.trim());
  // The diff comes twice (jest-diff's, then node:assert's): the first is enough.
  const end = block.findIndex((l) => l.includes('actual - expected'));
  const differing = (end < 0 ? block : block.slice(0, end))
    .filter((l) => /^[-+] /.test(l) && !/^[-+] (Expected|Received)$/.test(l))
    .map((l) => l.replace(/\s+/g, ' '));
  if (differing.length) return differing.slice(0, 12).join(' | ') + (differing.length > 12 ? ' | …' : '');
  return block.find((l) => l.startsWith('error:'))?.slice(0, 200) ?? 'see the log';
}

interface Answer {
  data?: unknown;
  errors?: { message?: string; path?: unknown; extensions?: { code?: unknown } }[];
}

/**
 * `--compare`: stricter than the suite, which checks `data` and only whether there were errors.
 * Runs both gateways side by side on each test suite's supergraph, sends every query of the suite
 * to both and compares the whole answers: `data` exactly, and the errors by count and path (their
 * messages and codes differ by design: ketengraph masks subgraph errors without a code).
 */
async function compare(suite: string): Promise<void> {
  const groups: number[] = [];
  const started = (command: string, args: string[], cwd: string, log: string | null) => {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', log ? 'pipe' : 'ignore', log ? 'pipe' : 'inherit'] });
    if (log) {
      const lines: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => lines.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => lines.push(chunk));
      child.once('exit', () => writeFileSync(log, Buffer.concat(lines)));
    }
    groups.push(child.pid!);
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const stop = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone (a gateway that failed to start)
      }
    };
    return { exited, stop };
  };
  const until = async (what: string, check: () => Promise<boolean>) => {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200)))
      if (await check().catch(() => false)) return;
    throw new Error(`${what} did not come up within 60 s`);
  };
  const post = async (url: string, query: string): Promise<Answer> =>
    (await (
      await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query }) })
    ).json()) as Answer;
  process.once('SIGINT', () => {
    for (const group of groups) process.kill(-group, 'SIGTERM');
    process.exit(130);
  });
  await ensureFree();

  const subgraphs = started('npm', ['start', '-s', '--', 'serve', '--port', String(SUITE_PORT)], suite, null);
  const base = `http://127.0.0.1:${SUITE_PORT}`;
  await until('the suite', async () => (await fetch(`${base}/_health`)).ok);
  const ids = values.test ? values.test.split(',') : ((await (await fetch(`${base}/ids`)).json()) as string[]);
  const gateways = [
    { name: 'ketengraph', port, dir: adapter(suite, 'ketengraph', port) },
    { name: 'apollo-gateway', port: port + 1, dir: adapter(suite, 'apollo-gateway', port + 1) },
  ];
  const differences: string[] = [];
  let cases = 0;
  let sameData = 0;
  let sameErrors = 0;
  let sameMessages = 0;
  let sameConcurrent = 0;
  let mutations = 0;
  const reworded: string[] = [];
  for (const id of ids) {
    const tests = (await (await fetch(`${base}/${id}/tests`)).json()) as { query: string }[];
    const running = gateways.map((g) => {
      mkdirSync(join(g.dir, 'logs'), { recursive: true });
      return started('sh', ['./run.sh', id], g.dir, join(g.dir, 'logs', `${id}-compare-gateway.log`));
    });
    try {
      for (const g of gateways)
        await until(`${g.name} for ${id}`, async () => (await post(`http://127.0.0.1:${g.port}/graphql`, '{ __typename }')).data !== undefined);
      for (const [index, { query }] of tests.entries()) {
        // A mutation changes the subgraphs' state, which both gateways share: sent to both, the second would find the first's change.
        if (/^\s*mutation\b/.test(query)) {
          mutations++;
          continue;
        }
        const [ours, theirs] = await Promise.all(gateways.map((g) => post(`http://127.0.0.1:${g.port}/graphql`, query)));
        const paths = (answer: Answer) => JSON.stringify((answer!.errors ?? []).map((e) => JSON.stringify(e.path ?? null)).sort());
        const messages = (answer: Answer) => JSON.stringify((answer!.errors ?? []).map((e) => `${e.message} ${String(e.extensions?.code)}`).sort());
        cases++;
        const dataSame = isDeepStrictEqual(ours!.data ?? null, theirs!.data ?? null);
        const errorsSame = paths(ours!) === paths(theirs!);
        if (dataSame) sameData++;
        if (errorsSame) sameErrors++;
        if (messages(ours!) === messages(theirs!)) sameMessages++;
        else reworded.push(`${id}_${index}: ${messages(ours!)} for ${messages(theirs!)}`);
        // The same query three times at once from the same caller: ketengraph shares identical subgraph fetches in flight; each must get the whole answer.
        const together = await Promise.all([1, 2, 3].map(() => post(`http://127.0.0.1:${port}/graphql`, query)));
        if (together.some((answer) => !isDeepStrictEqual(answer.data ?? null, ours!.data ?? null) || paths(answer) !== paths(ours!)))
          differences.push(`${id}_${index}: concurrent identical queries answered differently: ${JSON.stringify(together)}`);
        else sameConcurrent++;
        if (!dataSame || !errorsSame)
          differences.push(
            `${id}_${index}: ${dataSame ? '' : `data ${JSON.stringify(ours!.data)} ≠ ${JSON.stringify(theirs!.data)}; `}` +
              `errors ${JSON.stringify(ours!.errors?.map((e) => [e.path, e.extensions?.code, e.message]) ?? [])} ≠ ${JSON.stringify(theirs!.errors?.map((e) => [e.path, e.extensions?.code, e.message]) ?? [])}`,
          );
      }
    } finally {
      for (const g of running) g.stop();
      await Promise.all(running.map((g) => g.exited));
    }
    process.stdout.write('.');
  }
  subgraphs.stop();
  await subgraphs.exited;
  console.log(
    `\nketengraph against the bare @apollo/gateway, ${ids.length} test suites, ${cases} queries (${new Date().toISOString()}, Node ${process.version}; ` +
      `${mutations} mutations left to the suite's own run):`,
  );
  console.log(
    `  same data: ${sameData}/${cases}; same errors (count and paths): ${sameErrors}/${cases}; same error messages and codes: ${sameMessages}/${cases}; ketengraph's answers to three identical concurrent queries the same: ${sameConcurrent}/${cases}`,
  );
  for (const difference of differences) console.log(`  ≠ ${difference}`);
  for (const difference of reworded) console.log(`  ~ ${difference}`);
}
