/**
 * One list of error codes (packages/service-kit/src/error-codes.ts): every code the code base
 * gives a client is in it, every code in it is given somewhere, and the README's table is the
 * list's (`npm run docs`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ERROR_CODES, repositoryRoot } from '@ketengraph/service-kit';
import { describe, expect, it } from 'vitest';
import { applySection, ERROR_CODES_SECTION } from '../scripts/readme-sections.js';

/** Where errors are raised (packages/domain and the seed generator hold vocabulary, not errors). */
const PRODUCTION_ROOTS = ['gateway/src', 'packages/service-kit/src', 'subgraphs'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ['generated', 'node_modules', 'test', 'browser'].includes(name) ? [] : sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(name) ? [path] : [];
  });
}

const CODE = `['"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)['"]`;
/** Where a literal is a GraphQL error code: an `extensions.code`, a comparison with one, or the code argument of an error constructor. */
const CODE_CONTEXTS = [
  new RegExp(`\\bcode\\s*(?::|[!=]==?)\\s*${CODE}`, 'g'),
  new RegExp(`\\b(?:domainError|errorBody|sendRefusal|HttpError|LimitError|ScalarValueError)\\((?:[^()'"]*,\\s*)?${CODE}`, 'g'),
  new RegExp(`${CODE}\\s+satisfies\\s+ErrorCode\\b`, 'g'),
  new RegExp(`\\bconst\\s+[A-Z_]*(?:CODE|UNAUTHORIZED|INTERNAL)[A-Z_]*\\s*=\\s*${CODE}`, 'g'),
];

/** Codes the code base reads from libraries and never gives a client (it maps or masks them). */
const FOREIGN_CODES: Record<string, string> = {
  P2002: "Prisma's unique-constraint violation, mapped to ALREADY_EXISTS",
  DOWNSTREAM_SERVICE_ERROR: "@apollo/gateway's code for a subgraph error without one: masked as INTERNAL_SERVER_ERROR",
  ERR_NON_PUBLIC_ADDRESS: "the kit's public-address guard's connection error, reported as a reason",
};
/** Node's system and internal error codes (ENOENT, EAI_AGAIN, ERR_…) and undici's (UND_ERR_…), read from failed I/O. */
const NODE_ERROR = /^(?:E[A-Z]+|EAI_[A-Z]+|ERR_[A-Z_]+|UND_ERR_[A-Z_]+)$/;
const foreign = (code: string) => code in FOREIGN_CODES || NODE_ERROR.test(code);

function emittedCodes(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const root of PRODUCTION_ROOTS) {
    for (const file of sourceFiles(join(repositoryRoot, root))) {
      const source = readFileSync(file, 'utf8');
      for (const pattern of CODE_CONTEXTS) {
        for (const match of source.matchAll(pattern)) {
          const line = source.slice(0, match.index).split('\n').length;
          found.set(match[1]!, [...(found.get(match[1]!) ?? []), `${relative(repositoryRoot, file)}:${line}`]);
        }
      }
    }
  }
  return found;
}

describe('the error registry', () => {
  const emitted = emittedCodes();

  it('holds every code the code base gives a client', () => {
    const unregistered = [...emitted].filter(([code]) => !(code in ERROR_CODES) && !foreign(code));
    expect(unregistered).toEqual([]);
  });

  it('holds no code that nothing gives (Apollo Server gives the request-level ones the kit passes on by name)', () => {
    const source = PRODUCTION_ROOTS.flatMap((root) => sourceFiles(join(repositoryRoot, root)))
      .filter((file) => !file.endsWith('error-codes.ts'))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    expect(Object.keys(ERROR_CODES).filter((code) => !source.includes(`'${code}'`))).toEqual([]);
  });

  it('finds codes where they are given (the scan is not blind)', () => {
    expect(emitted.get('FORBIDDEN')?.length).toBeGreaterThan(0);
    expect(emitted.get('UNAUTHORIZED_FIELD_OR_TYPE')?.length).toBeGreaterThan(0);
    expect(emitted.get('EPD_UNAVAILABLE')?.length).toBeGreaterThan(0);
    expect(emitted.get('PAYLOAD_TOO_LARGE')?.length).toBeGreaterThan(0);
  });

  it("is the README's error table", () => {
    const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
    expect(applySection(readme, ERROR_CODES_SECTION), 'README.md differs from the registry: run `npm run docs`').toBe(readme);
  });
});
