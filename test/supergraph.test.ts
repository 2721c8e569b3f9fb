import { readFileSync } from 'node:fs';
import { loadAccessPolicy } from '@ketengraph/service-kit';
import { describe, expect, it } from 'vitest';
import { composeSupergraph } from '../schema/compose.js';
import { applyPolicyDirectives } from '../schema/policy-directives.js';
import { COMPOSED_SUBGRAPHS, SUPERGRAPH_FILE } from '../schema/subgraphs.js';

describe('schema/supergraph.graphql', () => {
  it('is the composition of the current subgraph SDL (run `npm run compose` when this fails)', () => {
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(composeSupergraph());
  });

  it('carries the data categories as @policy for security', () => {
    const supergraph = readFileSync(SUPERGRAPH_FILE, 'utf8');
    expect(supergraph).toContain('@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)');
    expect(supergraph).toMatch(/bsn: String @join__field\(graph: INDICATIESTELLING\) @policy\(policies: \[\["identity"\]\]\)/);
  });
});

describe('@policy directives in the subgraph SDL', () => {
  const policy = loadAccessPolicy();
  for (const subgraph of COMPOSED_SUBGRAPHS) {
    it(`${subgraph.name} matches schema/access-policy.json (run \`npm run policy\` when this fails)`, () => {
      const sdl = readFileSync(subgraph.schemaFile, 'utf8');
      expect(applyPolicyDirectives(sdl, policy, subgraph.name)).toBe(sdl);
    });
  }

  it('is written from the rules file: a category changed there changes the SDL', () => {
    const sdl = readFileSync(COMPOSED_SUBGRAPHS.find((s) => s.name === 'indicatiestelling')!.schemaFile, 'utf8');
    const changed = applyPolicyDirectives(sdl, { ...policy, fields: { ...policy.fields, 'Patient.bsn': ['medical'] } }, 'indicatiestelling');
    expect(changed).toContain('bsn: String @policy(policies: [["medical"]])');
    const removed = applyPolicyDirectives(sdl, { ...policy, fields: Object.fromEntries(Object.entries(policy.fields).filter(([k]) => k !== 'Patient.birthDate')) }, 'indicatiestelling');
    expect(removed).toMatch(/birthDate: Date\n/);
  });
});
