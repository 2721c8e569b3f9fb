/**
 * `npm run policy` writes the access policy's data categories into every subgraph's SDL as
 * `@policy` directives and recomposes the supergraph. `-- --check` only reports differences.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadAccessPolicy } from '@ketengraph/service-kit';
import { applyPolicyDirectives } from '../schema/policy-directives.js';
import { COMPOSED_SUBGRAPHS } from '../schema/subgraphs.js';

const policy = loadAccessPolicy();
const check = process.argv.includes('--check');
const stale: string[] = [];
for (const { name, schemaFile } of COMPOSED_SUBGRAPHS) {
  const current = readFileSync(schemaFile, 'utf8');
  const next = applyPolicyDirectives(current, policy, name);
  if (next === current) continue;
  if (check) stale.push(name);
  else {
    writeFileSync(schemaFile, next);
    console.log(`updated @policy directives in ${name}`);
  }
}
if (stale.length) {
  console.error(`@policy directives differ from schema/access-policy.json in: ${stale.join(', ')}. Run \`npm run policy\`.`);
  process.exit(1);
}
