import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeSupergraph } from '../schema/compose.js';
import { SUPERGRAPH_FILE } from '../schema/subgraphs.js';

describe('schema/supergraph.graphql', () => {
  it('is the composition of the current subgraph SDL (run `npm run compose` when this fails)', () => {
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(composeSupergraph());
  });
});
