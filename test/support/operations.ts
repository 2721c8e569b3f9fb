import { readFileSync } from 'node:fs';

/** Reads an operation from test/operations (shared by tests, benchmark and explorer examples). */
export function operation(name: string): string {
  return readFileSync(new URL(`../operations/${name}.graphql`, import.meta.url), 'utf8');
}
