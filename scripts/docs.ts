/**
 * `npm run docs` writes the README's generated sections (error codes, configuration) from their
 * one source in the code; `-- --check` only reports a difference.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { applySection, README_SECTIONS } from './readme-sections.js';

const file = new URL('../README.md', import.meta.url);
const check = process.argv.includes('--check');
const readme = readFileSync(file, 'utf8');
let next = readme;
for (const section of README_SECTIONS) {
  const applied = applySection(next, section);
  if (applied === null) {
    console.error(`README.md lacks the ${section.name} markers.`);
    process.exit(1);
  }
  next = applied;
}
if (next === readme) process.exit(0);
if (check) {
  console.error('README.md differs from its sources. Run `npm run docs`.');
  process.exit(1);
}
writeFileSync(file, next);
console.log('updated the generated sections of README.md');
