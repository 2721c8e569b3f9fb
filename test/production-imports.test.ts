/**
 * Production code takes the chain's vocabulary from @ketengraph/domain, never from the seed
 * generator: the rules must not depend on the fixtures. Only the seed modules themselves (each
 * subgraph's `seed.ts`, the simulated EPDs) read @ketengraph/seed-data.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repositoryRoot } from '@ketengraph/service-kit';
import { describe, expect, it } from 'vitest';

const SUBGRAPH_DIRS = readdirSync(join(repositoryRoot, 'subgraphs')).map((name) => `subgraphs/${name}`);
const PRODUCTION_PACKAGES = ['gateway', 'packages/service-kit', 'packages/domain', ...SUBGRAPH_DIRS];
/** The fixture loaders: they generate the synthetic chain into a database or serve it as an EPD. */
const SEED_MODULES = new Set([...SUBGRAPH_DIRS.map((dir) => `${dir}/src/seed.ts`), 'subgraphs/forensisch-cv/src/epd/simulator.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ['generated', 'node_modules'].includes(name) ? [] : sourceFiles(path);
    return /\.(ts|tsx|mts|mjs)$/.test(name) ? [path] : [];
  });
}

const SEED_IMPORT = /(?:from|import\(|require\()\s*['"](?:@ketengraph\/seed-data|[./]+(?:\/[\w-]+)*\/seed-data\/)/;

describe('production code does not read the fixtures', () => {
  it('no production source imports @ketengraph/seed-data (seed modules aside)', () => {
    const offending = PRODUCTION_PACKAGES.flatMap((pkg) => sourceFiles(join(repositoryRoot, pkg, 'src')))
      .map((path) => relative(repositoryRoot, path))
      .filter((path) => !SEED_MODULES.has(path) && SEED_IMPORT.test(readFileSync(join(repositoryRoot, path), 'utf8')));
    expect(offending).toEqual([]);
  });

  it('the domain package, the kit and the gateway do not depend on the seed generator', () => {
    for (const pkg of ['packages/domain', 'packages/service-kit', 'gateway']) {
      const manifest = JSON.parse(readFileSync(join(repositoryRoot, pkg, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      const dependencies = { ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies };
      expect(Object.keys(dependencies), pkg).not.toContain('@ketengraph/seed-data');
    }
  });

  it('the check sees an import when there is one', () => {
    expect(SEED_IMPORT.test("import { isValidBsn } from '@ketengraph/seed-data';")).toBe(true);
    expect(SEED_IMPORT.test("import type { X } from '../../packages/seed-data/src/index.js';")).toBe(true);
    expect(SEED_IMPORT.test("import { isValidBsn } from '@ketengraph/domain';")).toBe(false);
  });
});
