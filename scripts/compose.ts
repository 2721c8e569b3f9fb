/** `npm run compose` writes schema/supergraph.graphql; `npm run compose -- --check` fails when it is stale. */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { composeSupergraph } from '../schema/compose.js';
import { SUPERGRAPH_FILE } from '../schema/subgraphs.js';

const supergraph = composeSupergraph();
if (process.argv.includes('--check')) {
  const committed = existsSync(SUPERGRAPH_FILE) ? readFileSync(SUPERGRAPH_FILE, 'utf8') : '';
  if (committed !== supergraph) {
    console.error('schema/supergraph.graphql is stale: run `npm run compose` and commit the result.');
    process.exit(1);
  }
  console.log('schema/supergraph.graphql is up to date.');
} else {
  writeFileSync(SUPERGRAPH_FILE, supergraph);
  console.log(`wrote ${SUPERGRAPH_FILE}`);
}
