import { readFileSync } from 'node:fs';
import { loadAccessPolicy } from '@ketengraph/service-kit';
import { describe, expect, it } from 'vitest';
import { composeSupergraph } from '../schema/compose.js';
import { applyPolicyDirectives } from '../schema/policy-directives.js';
import { COMPOSED_SUBGRAPHS, SUBGRAPHS, SUPERGRAPH_FILE } from '../schema/subgraphs.js';
import { applyWriteRulesSection } from '../schema/write-rules-doc.js';
import { Kind, parse } from 'graphql';

describe('schema/supergraph.graphql', () => {
  it('is the composition of the current subgraph SDL (run `npm run compose` when this fails)', () => {
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(composeSupergraph());
  });

  it('carries the data categories as @policy for security', () => {
    const supergraph = readFileSync(SUPERGRAPH_FILE, 'utf8');
    expect(supergraph).toContain('@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)');
    expect(supergraph).toMatch(/bsn: BSN @join__field\(graph: INDICATIESTELLING\) @policy\(policies: \[\["identity"\]\]\)/);
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
    expect(changed).toContain('bsn: BSN @policy(policies: [["medical"]])');
    const removed = applyPolicyDirectives(
      sdl,
      { ...policy, fields: Object.fromEntries(Object.entries(policy.fields).filter(([k]) => k !== 'Patient.birthDate')) },
      'indicatiestelling',
    );
    expect(removed).toMatch(/birthDate: Date\n/);
  });
});

describe('write rules (writeRules in schema/access-policy.json)', () => {
  const policy = loadAccessPolicy();
  const owner = new Map<string, string>(
    SUBGRAPHS.flatMap((subgraph) =>
      parse(readFileSync(subgraph.schemaFile, 'utf8')).definitions.flatMap((d) =>
        (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === 'Mutation'
          ? (d.fields ?? [])
              .filter((f) => !f.directives?.some((dir) => dir.name.value === 'inaccessible'))
              .map((f) => [`Mutation.${f.name.value}`, subgraph.name] as const)
          : [],
      ),
    ),
  );
  const mutations = [...owner.keys()];

  it('cover every mutation of every subgraph (internal @inaccessible ones are no step of the chain), and nothing else', () => {
    expect(mutations.length).toBeGreaterThan(20);
    expect(Object.keys(policy.writeRules).sort()).toEqual([...mutations].sort());
  });

  it('let every allowed role read what its step writes and hold the scope (a step taken is never answered as withheld)', () => {
    for (const [coordinate, rule] of Object.entries(policy.writeRules)) {
      const scope = policy.mutationScopes[owner.get(coordinate)!]!;
      for (const allowance of rule.allow) {
        for (const category of rule.categories) expect(policy.roles[allowance.role]?.[category], `${coordinate} ${allowance.role} ${category}`).toBeDefined();
        expect(policy.roleScopes[allowance.role], `${coordinate} ${allowance.role}`).toContain(scope);
      }
    }
  });

  it("are the README's write-rules table (run `npm run policy` when this fails)", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(applyWriteRulesSection(readme, policy)).toBe(readme);
  });
});
