// Writes the gateway's trusted documents (gateway/src/admission/trusted-documents/generated/manifest.json):
// every operation in the project's own .graphql files — test/operations and the explorer's
// examples — with the fragments it uses, printed canonically, keyed by the SHA-256 of that text
// (Apollo's persisted query manifest format). Run by `npm run generate`; never edit the output.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Kind, parse, print, visit } from 'graphql';

const root = new URL('..', import.meta.url).pathname;
const SOURCES = ['test/operations', 'packages/explorer/src'];
export const MANIFEST = join(root, 'gateway/src/admission/trusted-documents/generated/manifest.json');

function graphqlFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'generated' ? [] : graphqlFiles(path);
    return entry.name.endsWith('.graphql') ? [path] : [];
  });
}

export function buildManifest() {
  const files = SOURCES.flatMap((source) => graphqlFiles(join(root, source))).sort();
  const fragments = new Map();
  const operations = [];
  for (const file of files) {
    for (const definition of parse(readFileSync(file, 'utf8')).definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      if (definition.kind === Kind.OPERATION_DEFINITION) {
        if (!definition.name) throw new Error(`${relative(root, file)}: every registered operation needs a name.`);
        operations.push(definition);
      }
    }
  }
  const seen = new Map();
  const entries = operations.map((operation) => {
    const name = operation.name.value;
    if (seen.has(name) && seen.get(name) !== print(operation)) throw new Error(`Two different operations are named ${name}.`);
    seen.set(name, print(operation));
    const used = new Map();
    const collect = (node) =>
      visit(node, {
        FragmentSpread(spread) {
          const fragmentName = spread.name.value;
          if (used.has(fragmentName)) return;
          const fragment = fragments.get(fragmentName);
          if (!fragment) throw new Error(`Operation ${name} uses the unknown fragment ${fragmentName}.`);
          used.set(fragmentName, fragment);
          collect(fragment);
        },
      });
    collect(operation);
    const definitions = [operation, ...[...used.values()].sort((a, b) => a.name.value.localeCompare(b.name.value))];
    const body = print({ kind: Kind.DOCUMENT, definitions });
    return { id: createHash('sha256').update(body).digest('hex'), name, type: operation.operation, body };
  });
  const unique = [...new Map(entries.map((entry) => [entry.id, entry])).values()].sort((a, b) => a.name.localeCompare(b.name));
  return { format: 'apollo-persisted-query-manifest', version: 1, operations: unique };
}

export function writeManifest() {
  const manifest = buildManifest();
  mkdirSync(dirname(MANIFEST), { recursive: true });
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const manifest = writeManifest();
  console.log(`trusted documents: ${manifest.operations.length} operations in ${relative(root, MANIFEST)}`);
}
