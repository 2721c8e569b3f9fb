/**
 * The README's configuration table lists exactly the environment variables the code reads: a
 * variable added to a config module without a row (or a row left behind after a variable was
 * removed) fails here, so the table cannot drift.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forensischCv } from '@ketengraph/forensisch-cv';
import { indicatiestelling } from '@ketengraph/indicatiestelling';
import { kwaliteit } from '@ketengraph/kwaliteit';
import { plaatsing } from '@ketengraph/plaatsing';
import { COMMON_ENV, type EnvSpec, repositoryRoot, subgraphEnv } from '@ketengraph/service-kit';
import { describe, expect, it } from 'vitest';
import { envNameOf, GATEWAY_ENV, SUBGRAPH_URL_ENV } from '../gateway/src/config/index.js';
import { SUBGRAPHS } from '../schema/subgraphs.js';

// Everything that reads the environment: the processes, the scripts, the tests and the benchmark (generated code excluded).
const SOURCE_ROOTS = [
  'gateway/src',
  'packages/service-kit/src',
  'packages/domain/src',
  'packages/explorer/src',
  'packages/seed-data/src',
  ...SUBGRAPHS.map(({ name }) => `subgraphs/${name}/src`),
  'scripts',
  'test',
];
const THIS_FILE = fileURLToPath(import.meta.url);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ['generated', 'node_modules', 'artifacts'].includes(name) ? [] : sourceFiles(path);
    return /\.(ts|tsx|mjs)$/.test(name) && path !== THIS_FILE ? [path] : [];
  });
}

/** Variables a file reads from the environment; `<SUBGRAPH>_X` for a per-subgraph key built at run time. */
function variablesRead(source: string): Set<string> {
  const found = new Set<string>();
  const add = (pattern: RegExp, name: (match: RegExpMatchArray) => string[]) => {
    for (const match of source.matchAll(pattern)) for (const variable of name(match)) found.add(variable);
  };
  add(/\benv\.([A-Z][A-Z0-9_]+)\b/g, (m) => [m[1]!]); // env.X, process.env.X
  add(/\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g, (m) => [m[1]!]); // env['X']
  add(/\b(?:\w+\(env, |integer\()['"]([A-Z][A-Z0-9_]+)['"]/g, (m) => [m[1]!]); // positiveInteger(env, 'X', 10); the kit's integer('X', 10) closure over env
  add(/\{([^{}]*)\}\s*=\s*(?:process\.)?env\b/g, (m) => [...m[1]!.matchAll(/\b([A-Z][A-Z0-9_]+)\s*[:,}]?/g)].map((n) => n[1]!)); // const { X: x } = env
  add(/\benv\[envNameOf\(/g, () => SUBGRAPHS.map(({ name }) => envNameOf(name))); // INDICATIESTELLING_URL, …
  add(/envKey\(\w+, '([A-Z][A-Z0-9_]+)'\)/g, (m) => [`<SUBGRAPH>_${m[1]!}`]); // scripts/start.ts
  add(/env\[`\$\{prefix\}_([A-Z][A-Z0-9_]+)`\]/g, (m) => [`<SUBGRAPH>_${m[1]!}`]); // scripts/seed.ts
  return found;
}

function readmeTable(): { variables: Set<string>; rows: string[][] } {
  const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
  const section = /\n## Configuration\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `') || line.startsWith('| <'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  const variables = new Set(rows.flatMap(([names]) => [...names!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!)));
  return { variables, rows };
}

/** Every process's declared variables: the kit's common ones, every subgraph's, and each subgraph's own. */
const DECLARED: { process: string; spec: EnvSpec }[] = [
  { process: 'each', spec: COMMON_ENV },
  { process: 'gateway', spec: { ...GATEWAY_ENV, ...SUBGRAPH_URL_ENV } },
  ...[indicatiestelling, plaatsing, forensischCv, kwaliteit].map((module) => ({
    process: module.name,
    spec: { ...subgraphEnv(module.name, module.defaultPort), ...module.env },
  })),
];

describe('README configuration table', () => {
  const readByFile = new Map<string, Set<string>>();
  for (const root of SOURCE_ROOTS) {
    for (const file of sourceFiles(join(repositoryRoot, root))) readByFile.set(relative(repositoryRoot, file), variablesRead(readFileSync(file, 'utf8')));
  }
  const read = new Set([...readByFile.values()].flatMap((names) => [...names]));
  for (const { spec } of DECLARED) for (const name of Object.keys(spec)) read.add(name);
  const { variables, rows } = readmeTable();

  it('finds the variables the config modules read (the scan itself works)', () => {
    for (const name of [
      'PORT',
      'AUTH_ISSUER',
      'AUTH_JWKS_FILE',
      'AUDIT_DATA_DIR',
      'SEED_PATIENTS',
      'EXPLORER_ENABLED',
      'PLAATSING_URL',
      '<SUBGRAPH>_DATABASE_URL',
    ])
      expect(read).toContain(name);
  });

  it('has a row for every variable the code reads', () => {
    const missing = [...read]
      .filter((name) => !variables.has(name))
      .map(
        (name) =>
          `${name} (read in ${[...readByFile]
            .filter(([, names]) => names.has(name))
            .map(([file]) => file)
            .join(', ')})`,
      );
    expect(missing).toEqual([]);
  });

  it('lists no variable the code does not read', () => {
    expect([...variables].filter((name) => !read.has(name))).toEqual([]);
  });

  it('gives every row a process, a default and a meaning', () => {
    for (const row of rows) {
      expect(row, row[0]).toHaveLength(4);
      for (const cell of row) expect(cell.length, row[0]).toBeGreaterThan(0);
    }
  });

  it("documents each declared variable's default as its declaration gives it", () => {
    const wrong: string[] = [];
    for (const { process, spec } of DECLARED) {
      for (const [name, variable] of Object.entries(spec)) {
        const documented = rows.filter(([names]) => names!.includes(`\`${name}\``)).map(([, , defaults]) => defaults!);
        if (!documented.some((cell) => cell.includes(variable.documentedDefault)))
          wrong.push(`${name} (${process}): declared default ${variable.documentedDefault}, README ${documented.join(' / ') || 'no row'}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
