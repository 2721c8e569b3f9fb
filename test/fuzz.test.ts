/**
 * Fuzzing the gateway: hundreds of generated malformed and hostile requests — broken JSON and
 * GraphQL, wrong shapes and types, deep, wide, cyclic and directive-laden documents, injection
 * strings, prototype pollution, oversized numbers and lists, mutations with bad input, batches —
 * from a seeded PRNG (FUZZ_SEED, so a failure can be replayed). Every answer must be a client
 * error or data: never a 5xx, never a stack trace, never an internal error; no personal data in
 * any error or log line; and the gateway answers normally afterwards.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Supergraph } from '@apollo/federation-internals';
import { getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, type GraphQLInputType as InputType } from 'graphql';
import { withoutSecurityPurpose, type RunningGateway } from '@ketengraph/gateway';
import { redirectLogs } from '@ketengraph/service-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SUPERGRAPH_FILE } from '../schema/subgraphs.js';
import { startFederation, type Federation } from './support/federation.js';
import { operation } from './support/operations.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const CASES = Number(process.env.FUZZ_CASES ?? 500);

/** mulberry32: a small seeded PRNG, so every run sends the same requests. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

let federation: Federation;
let gateway: RunningGateway;
let token: string;
/** Personal data of seeded patients: must never appear in a log line or an error. */
const personal: string[] = [];
const logLines: string[] = [];
let restoreLogs: () => void;

beforeAll(async () => {
  restoreLogs = redirectLogs(
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }) as never,
  );
  federation = await startFederation({ seedPatients: 10 });
  // Rate limiting off: the fuzzer is one organisation sending as fast as it can.
  gateway = await federation.startGateway({ rateLimit: { perSecond: 0, burst: 0, burstSeconds: 1 } });
  token = await federation.callerToken();
  const seeded = await federation.request<any>('{ patients(first: 10) { edges { node { id bsn name { full given family } } } } }');
  for (const { node } of seeded.data.patients.edges) personal.push(node.bsn, node.name.full, node.name.family);
});

afterAll(async () => {
  await gateway?.close();
  await federation?.close();
  restoreLogs?.();
});

const FIELDS = [
  'patients',
  'patient',
  'patientByBsn',
  'providers',
  'provider',
  'placement',
  'trajectory',
  'freeCapacity',
  'waitingTimes',
  'qualityPillars',
  'qualityOverview',
  'auditTrail',
  '__schema',
  '__type',
  '__typename',
  'edges',
  'node',
  'id',
  'bsn',
  'name',
  'full',
  'trajectories',
  'placements',
  'forensicCv',
  'riskAssessments',
  'nope',
];
const TOKENS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '...',
  '$',
  '@',
  '!',
  '=',
  '|',
  '&',
  'query',
  'mutation',
  'subscription',
  'fragment',
  'on',
  'true',
  'null',
  '"str"',
  '"""block"""',
  '-1',
  '1e999',
  '0x10',
  '\u0000',
  '\u202e',
  '#comment\n',
  ',',
  'include',
  'skip',
  'if',
];
const HOSTILE_STRINGS = [
  "' OR 1=1 --",
  '"; DROP TABLE patient; --',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '\u0000\u0001',
  'A'.repeat(10_000),
  '🙂'.repeat(500),
  '%00',
  '{{7*7}}',
];

function generate(random: ReturnType<typeof prng>): { body: string; label: string } {
  const { int, pick } = random;
  const someone = () => pick(personal);
  const hostile = () => (random.next() < 0.3 ? someone() : pick(HOSTILE_STRINGS));
  const json = (value: unknown) => JSON.stringify(value);
  const kind = int(16);
  switch (kind) {
    case 0: {
      // Random bytes, usually not JSON at all.
      const length = int(300);
      return { label: 'bytes', body: Array.from({ length }, () => String.fromCharCode(int(256))).join('') };
    }
    case 1:
      return {
        label: 'json-shape',
        body: pick([
          'null',
          '1',
          '"query"',
          '[]',
          '[1,2]',
          '{"query":123}',
          '{"query":["{ id }"]}',
          '{"query":"{ qualityPillars { number } }","variables":"x"}',
          '{"query":"{ qualityPillars { number } }","operationName":{}}',
          '{"query":"{ qualityPillars { number } }","extensions":"x"}',
          '{"query":null}',
          '{',
          '{"query":"{ qualityPillars { number } }","variables":[]}',
          '[{"query":1},{}]',
        ]),
      };
    case 2: {
      // Token soup.
      const length = 1 + int(60);
      return { label: 'token-soup', body: json({ query: Array.from({ length }, () => (random.next() < 0.4 ? pick(FIELDS) : pick(TOKENS))).join(' ') }) };
    }
    case 3: {
      // Deep nesting.
      const depth = 5 + int(60);
      return {
        label: 'deep',
        body: json({
          query: `{ ${'patients(first: 1) { edges { node { trajectories(first: 1) { edges { node { patient { '.repeat(depth / 10 + 1)} id ${'} } } } } } } '.repeat(depth / 10 + 1)} }`,
        }),
      };
    }
    case 4: {
      // Alias flood.
      const count = 1 + int(400);
      return { label: 'aliases', body: json({ query: `{ ${Array.from({ length: count }, (_, i) => `a${i}: qualityPillars { number }`).join(' ')} }` }) };
    }
    case 5:
      // Fragment cycle and self-spread.
      return {
        label: 'fragment-cycle',
        body: json({ query: 'query { patients(first: 1) { edges { node { ...A } } } } fragment A on Patient { id ...B } fragment B on Patient { ...A }' }),
      };
    case 6: {
      // Directive spam.
      const count = 1 + int(200);
      return { label: 'directives', body: json({ query: `{ qualityPillars ${'@include(if: true) '.repeat(count)}{ number } }` }) };
    }
    case 7: {
      // Introspection depth bomb.
      const depth = 3 + int(30);
      return {
        label: 'introspection',
        body: json({ query: `{ __schema { types { fields { type ${'{ ofType '.repeat(depth)}{ name }${' }'.repeat(depth)} } } } }` }),
      };
    }
    case 8:
      // Wrongly typed and out-of-range variables.
      return {
        label: 'variables',
        body: json({
          query: 'query ($first: Int, $bsn: BSN!, $id: ID!) { patients(first: $first) { totalCount } patientByBsn(bsn: $bsn) { id } patient(id: $id) { id } }',
          variables: {
            first: pick([-1, 0, 2 ** 31, 1e308, '10', 1.5, null, [], {}, 101, 100_000]),
            bsn: pick([someone(), 123, { bsn: someone() }, hostile(), '']),
            id: pick([hostile(), 42, null, '00000000-0000-0000-0000-000000000000']),
          },
        }),
      };
    case 9:
      // Prototype pollution through variables and extensions.
      return {
        label: 'proto',
        body: `{"query":"query ($id: ID!) { patient(id: $id) { id } }","variables":{"id":"x","__proto__":{"admin":true},"constructor":{"prototype":{"polluted":1}}},"extensions":{"__proto__":{"persistedQuery":{"sha256Hash":"0"}}}}`,
      };
    case 10:
      // Mutations with hostile input.
      return {
        label: 'mutation',
        body: json({
          query: 'mutation ($input: RegisterPatientInput!) { registerPatient(input: $input) { id } }',
          variables: {
            input: {
              bsn: pick([someone(), hostile(), '000000000', '123456789']),
              givenName: hostile(),
              familyName: hostile(),
              birthDate: pick(['2999-01-01', 'yesterday', hostile(), '1970-02-30']),
            },
          },
        }),
      };
    case 11:
      // Literals in the document: injection strings and personal data (must not reach the logs).
      return {
        label: 'literals',
        body: json({ query: `{ patientByBsn(bsn: ${JSON.stringify(hostile())}) { id name { full } } provider(id: ${JSON.stringify(hostile())}) { id } }` }),
      };
    case 12:
      // Huge lists and page sizes.
      return {
        label: 'lists',
        body: json({
          query: `{ providers(first: ${pick([101, 1000, 2 ** 31 - 1, -5])}) { edges { node { id } } } patients(first: 100, after: ${JSON.stringify(hostile())}) { totalCount } }`,
        }),
      };
    case 13: {
      // Batches, some oversized, some mixed.
      const size = 1 + int(20);
      return {
        label: 'batch',
        body: json(Array.from({ length: size }, () => (random.next() < 0.5 ? { query: '{ qualityPillars { number } }' } : { query: pick(TOKENS) }))),
      };
    }
    case 14:
      // Unknown persisted query ids and documentIds.
      return {
        label: 'persisted',
        body: json(
          pick([
            { extensions: { persistedQuery: { version: 1, sha256Hash: hostile() } } },
            { documentId: hostile() },
            { documentId: 42 },
            { extensions: { persistedQuery: { version: 2, sha256Hash: 'a'.repeat(64) } } },
          ]),
        ),
      };
    default:
      // Operation name games.
      return {
        label: 'operation-name',
        body: json({
          query: 'query A { qualityPillars { number } } query B { qualityPillars { number } }',
          operationName: pick(['C', '', null, hostile(), 'A B']),
        }),
      };
  }
}

it(`${CASES} generated hostile requests (seed ${SEED}): no 5xx, no stack trace, no internal error, no personal data leaked`, async () => {
  const random = prng(SEED);
  const failures: string[] = [];
  const labels = new Map<string, number>();
  for (let i = 0; i < CASES; i++) {
    const { body, label } = generate(random);
    labels.set(label, (labels.get(label) ?? 0) + 1);
    const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    const text = await response.text();
    const where = `case ${i} (${label}, seed ${SEED})`;
    if (response.status >= 500) failures.push(`${where}: HTTP ${response.status} ${text.slice(0, 300)}`);
    if (/\n\s+at |stacktrace|node_modules|\.ts:\d+/.test(text)) failures.push(`${where}: stack trace in ${text.slice(0, 300)}`);
    if (text.includes('INTERNAL_SERVER_ERROR')) failures.push(`${where}: internal error ${text.slice(0, 300)}`);
    // Errors must not carry personal data the request itself did not send (a value echoed back to its sender is not a leak).
    const errorText = JSON.stringify((JSON.parse(text || '{}') as { errors?: unknown }).errors ?? '');
    for (const value of personal) if (errorText.includes(value) && !body.includes(value)) failures.push(`${where}: personal data in an error`);
  }
  expect(failures, failures.join('\n')).toEqual([]);
  expect(labels.size).toBeGreaterThanOrEqual(14); // every kind of hostile input was sent

  // Nothing personal, nothing sent, in any log line.
  const logs = logLines.join('\n');
  for (const value of personal) expect(logs.includes(value), `personal data in the logs`).toBe(false);
  for (const value of HOSTILE_STRINGS.filter((s) => s.length > 6)) expect(logs.includes(value), `request data in the logs: ${value.slice(0, 20)}`).toBe(false);
  expect(logs).not.toMatch(/\bBearer\b|eyJ[\w-]{10,}/);

  // And the gateway still answers normally.
  const patients = await federation.request<any>('{ patients(first: 1) { edges { node { id } } } }');
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: operation('PatientTrajectory'),
      variables: { id: patients.data.patients.edges[0].node.id },
      operationName: 'PatientTrajectory',
    }),
  });
  expect(response.status).toBe(200);
  const answer = (await response.json()) as any;
  expect(answer.errors).toBeUndefined();
  expect(answer.data.patient.id).toBe(patients.data.patients.edges[0].node.id);
  expect((await fetch(new URL('/health', gateway.url))).status).toBe(200);
}, 300_000);

/** Values no argument of the type accepts, or that its rules refuse; per named input type (enums and input objects below). */
const MALFORMED: Record<string, unknown[]> = {
  Date: ['2024-02-30', '2023-02-29', '2024-13-01', '2024-1-1', '', 'tomorrow', 20240101, '0000-00-00', '99999-01-01'],
  BSN: ['111222334', '12345678', '1112223330', '11122233a', '111 222 333', '', 111222333],
  DateTime: ['2024-02-30T10:00:00Z', '2024-01-01T25:00:00Z', '2024-01-01', '2024-01-01T10:00:00', 'now', 0],
  ID: ['', ' ', "' OR 1=1 --", 'x'.repeat(2000), '\u202e', '00000000-0000-0000-0000-000000000000', 12345, '../../etc/passwd', '-1'],
  String: ['', ' ', 'x'.repeat(20_000), "'; DROP TABLE patient; --", '🙂'.repeat(200), 42, '%00'],
  Int: [-1, 0, 2_147_483_648, 1.5, '1', -2_147_483_648],
  Float: [-1, 1e308, 'NaN', -0.0001],
  Boolean: ['true', 1],
};

it('every argument of every root field (from the served schema) with malformed values: never 5xx, SUBGRAPH_UNAVAILABLE or INTERNAL_SERVER_ERROR', async () => {
  // The API schema the gateway serves, from the committed supergraph (introspection's depth exceeds MAX_DEPTH).
  const schema = Supergraph.build(withoutSecurityPurpose(readFileSync(SUPERGRAPH_FILE, 'utf8')))
    .apiSchema()
    .toGraphQLJSSchema();
  // Real ids for the arguments that are not under attack, so a request gets past the lookups to the value that is.
  const seeded = await federation.request<any>(
    '{ patients(first: 1) { edges { node { id trajectories(first: 1) { edges { node { id } } } } } } providers(first: 1) { edges { node { id } } } }',
  );
  const patient = seeded.data.patients.edges[0].node;
  const placements = await federation.request<any>(`query($p: ID!) { patient(id: $p) { placements(first: 1) { edges { node { id } } } } }`, { p: patient.id });
  const ids: Record<string, string> = {
    patient: patient.id,
    trajectory: patient.trajectories.edges[0]?.node.id ?? 'x',
    provider: seeded.data.providers.edges[0].node.id,
    placement: placements.data?.patient?.placements?.edges[0]?.node.id ?? 'x',
  };
  const idFor = (name: string, field: string) =>
    ids[
      Object.keys(ids).find((kind) => name.toLowerCase().startsWith(kind)) ?? Object.keys(ids).find((kind) => field.toLowerCase().includes(kind)) ?? 'patient'
    ]!;

  /** A value the type accepts (required input fields filled), for the arguments not under attack. */
  const valid = (type: InputType, name: string, field: string): unknown => {
    if (isNonNullType(type)) return valid(type.ofType, name, field);
    if (isListType(type)) return [valid(type.ofType, name, field)];
    if (isEnumType(type)) return type.getValues()[0]!.name;
    if (isInputObjectType(type)) {
      return Object.fromEntries(
        Object.values(type.getFields())
          .filter((f) => isNonNullType(f.type))
          .map((f) => [f.name, valid(f.type, f.name, field)]),
      );
    }
    switch (type.name) {
      case 'ID':
        return idFor(name, field);
      case 'Date':
        return '2024-01-15';
      case 'DateTime':
        return '2024-01-15T10:00:00Z';
      case 'BSN':
        return '111222333';
      case 'Int':
        return name === 'first' ? 5 : name === 'year' ? 2024 : 1;
      case 'Float':
        return 1;
      case 'Boolean':
        return true;
      default:
        return 'fuzz';
    }
  };
  /** Each place a value goes (an argument, or a field of an input object, one level down) with the malformed values for it. */
  const targets = (type: InputType, path: string[]): { path: string[]; values: unknown[] }[] => {
    const named = getNamedType(type);
    const bad = isEnumType(named) ? ['NOPE', 1, ''] : isInputObjectType(named) ? [] : (MALFORMED[named.name] ?? ['fuzz', 1]);
    const own = [{ path, values: [...bad, ...(isListType(isNonNullType(type) ? type.ofType : type) ? [[], [null]] : []), null] }];
    if (isInputObjectType(named) && path.length === 1) return [...own, ...Object.values(named.getFields()).flatMap((f) => targets(f.type, [...path, f.name]))];
    return own;
  };
  const literal = (value: unknown, type: InputType): string => {
    const named = getNamedType(type);
    if (value === null) return 'null';
    if (Array.isArray(value))
      return `[${value.map((v) => literal(v, isListType(isNonNullType(type) ? type.ofType : type) ? (isNonNullType(type) ? type.ofType : (type as any)).ofType : type)).join(', ')}]`;
    if (typeof value === 'object')
      return `{ ${Object.entries(value as object)
        .map(([k, v]) => `${k}: ${literal(v, isInputObjectType(named) ? (named.getFields()[k]?.type ?? named) : named)}`)
        .join(', ')} }`;
    if (isEnumType(named) && typeof value === 'string' && /^[A-Z_]+$/.test(value)) return value;
    return JSON.stringify(value);
  };

  const failures: string[] = [];
  let sent = 0;
  for (const rootType of [schema.getQueryType()!, schema.getMutationType()!]) {
    const operationType = rootType === schema.getQueryType() ? 'query' : 'mutation';
    for (const field of Object.values(rootType.getFields())) {
      const leaf = getNamedType(field.type);
      const selection = 'getFields' in leaf ? ' { __typename }' : '';
      for (const argument of field.args) {
        for (const target of targets(argument.type, [argument.name])) {
          for (const [index, bad] of target.values.entries()) {
            const args = Object.fromEntries(
              field.args.filter((a) => a === argument || isNonNullType(a.type)).map((a) => [a.name, valid(a.type, a.name, field.name)]),
            );
            if (target.path.length === 1) args[argument.name] = bad;
            else
              args[argument.name] = {
                ...((args[argument.name] as object) ?? (valid(argument.type, argument.name, field.name) as object)),
                [target.path[1]!]: bad,
              };
            // As variables always; as literals for the first values of each target too (another path through validation).
            const asVariables = {
              query: `${operationType} Fuzz(${field.args
                .filter((a) => a.name in args)
                .map((a) => `$${a.name}: ${a.type.toString()}`)
                .join(', ')}) { ${field.name}(${Object.keys(args)
                .map((name) => `${name}: $${name}`)
                .join(', ')})${selection} }`,
              variables: args,
            };
            const bodies = [asVariables];
            if (index < 3)
              bodies.push({
                query: `${operationType} { ${field.name}(${field.args
                  .filter((a) => a.name in args)
                  .map((a) => `${a.name}: ${literal(args[a.name], a.type)}`)
                  .join(', ')})${selection} }`,
                variables: {},
              });
            for (const body of bodies) {
              sent++;
              const response = await fetch(gateway.url, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
                body: JSON.stringify(body),
              });
              const text = await response.text();
              const where = `${operationType} ${field.name} ${target.path.join('.')}=${JSON.stringify(bad)?.slice(0, 40)} (${body.variables === args ? 'variables' : 'literal'})`;
              if (response.status >= 500) failures.push(`${where}: HTTP ${response.status} ${text.slice(0, 200)}`);
              else if (/SUBGRAPH_UNAVAILABLE|INTERNAL_SERVER_ERROR/.test(text)) failures.push(`${where}: ${text.slice(0, 300)}`);
              // A refused BSN is personal data: the answer must not repeat it.
              else if (typeof bad === 'string' && /^\d{8,10}$/.test(bad) && text.includes(bad))
                failures.push(`${where}: repeats the value: ${text.slice(0, 300)}`);
            }
          }
        }
      }
    }
  }
  expect(failures, `${failures.length} of ${sent}:\n${failures.join('\n')}`).toEqual([]);
  expect(sent).toBeGreaterThan(300);
}, 600_000);
