import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The gateway's folders along the request's path (README's folder map): the composition point
 * (the files at the top of gateway/src) puts the folders together; no folder reaches back up to
 * it, no module is part of an import cycle, and only the composition point and edge/ read the
 * whole configuration (every other folder takes its own slice).
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function modules(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : modules(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

const imports = new Map(
  modules(SRC).map((file) => {
    const source = readFileSync(file, 'utf8');
    const targets = [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gm)].map(([, specifier]) =>
      resolve(dirname(file), specifier!).replace(/\.js$/, '.ts'),
    );
    return [file, targets] as const;
  }),
);
const name = (file: string) => relative(SRC, file);
const atTop = (file: string) => dirname(file) === SRC;

describe('the gateway layout', () => {
  it('has no import cycles', () => {
    const cycles: string[][] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      state.set(file, 'open');
      for (const target of imports.get(file) ?? []) {
        if (state.get(target) === 'open') cycles.push([...path.slice(path.indexOf(target)), target].map(name));
        else if (!state.has(target)) visit(target, [...path, target]);
      }
      state.set(file, 'done');
    };
    for (const file of imports.keys()) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it('no folder imports the composition point, and only it and edge/ read the whole configuration', () => {
    const upward: string[] = [];
    const configReaders: string[] = [];
    for (const [file, targets] of imports) {
      if (atTop(file)) continue;
      for (const target of targets) {
        if (atTop(target)) upward.push(`${name(file)} → ${name(target)}`);
        if (name(target) === join('config', 'index.ts') && !name(file).startsWith(`edge${'/'}`)) configReaders.push(name(file));
      }
    }
    expect(upward).toEqual([]);
    expect(configReaders).toEqual([]);
  });
});
