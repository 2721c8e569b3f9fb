/**
 * `npm run policy` writes the access policy's data categories into every subgraph's SDL as
 * `@policy` directives, the write rules into the README's table, and recomposes the supergraph;
 * it names the fields of patient-bound types no category covers (withheld from everyone until
 * classified). `-- --check` only reports differences.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadAccessPolicy, readSchemaPolicies } from '@ketengraph/service-kit';
import { applyPolicyDirectives } from '../schema/policy-directives.js';
import { composeSupergraph } from '../schema/compose.js';
import { COMPOSED_SUBGRAPHS } from '../schema/subgraphs.js';
import { applyWriteRulesSection } from '../schema/write-rules-doc.js';

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
const readmeFile = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmeFile, 'utf8');
const documented = applyWriteRulesSection(readme, policy);
if (documented === null) {
  console.error('README.md lacks the write-rules markers.');
  process.exit(1);
}
if (documented !== readme) {
  if (check) stale.push('README.md (write rules)');
  else {
    writeFileSync(readmeFile, documented);
    console.log('updated the write-rules table in README.md');
  }
}
// Patient data no category covers is withheld from everyone until classified: name it, so it gets one.
const unclassified = readSchemaPolicies(composeSupergraph(), policy.patientTypes).unclassified();
if (unclassified.length) {
  console.warn(
    `Unclassified fields of patient-bound types (withheld from everyone until schema/access-policy.json gives them a category in fields): ${unclassified.join(', ')}`,
  );
}
if (stale.length) {
  console.error(`@policy directives differ from schema/access-policy.json in: ${stale.join(', ')}. Run \`npm run policy\`.`);
  process.exit(1);
}
