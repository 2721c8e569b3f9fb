/**
 * The explorer's example operations, read from the shared `.graphql` operation files in
 * `test/operations/` (also used by the tests and the benchmark, typed by graphql-codegen, and
 * allow-listed as trusted documents). The page offers those the served graph can run;
 * test/explorer-examples.test.ts validates every one against the composed supergraph.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, separateOperations, validate, type GraphQLSchema } from 'graphql';
import { repositoryRoot } from '@ketengraph/service-kit';
import type { ExplorerExample } from './page-config.js';
import { EXAMPLE_PATIENT_ID } from './sample-users.js';

export interface ExampleSource {
  /** The operation's name in its file. */
  name: string;
  title: string;
  file: string;
  variables: Record<string, unknown>;
}

const SHARED = join(repositoryRoot, 'test', 'operations');

export const EXAMPLE_SOURCES: readonly ExampleSource[] = [
  {
    name: 'PatientTrajectory',
    title: 'Traject van een patiënt (a patient’s whole trajectory)',
    file: join(SHARED, 'PatientTrajectory.graphql'),
    variables: { id: EXAMPLE_PATIENT_ID },
  },
  {
    name: 'FreeCapacity',
    title: 'Vrije capaciteit per beveiligingsniveau (free capacity per security level)',
    file: join(SHARED, 'FreeCapacity.graphql'),
    variables: { careType: 'KLINISCH' },
  },
  {
    name: 'PlacementChanged',
    title: 'Plaatsingswijzigingen volgen (placement subscription)',
    file: join(SHARED, 'PlacementChanged.graphql'),
    variables: { filter: { toStatus: ['ADMITTED', 'ENDED'] } },
  },
  {
    name: 'RegisterWebhook',
    title: 'Webhook registreren (register a webhook)',
    file: join(SHARED, 'RegisterWebhook.graphql'),
    variables: {
      input: {
        url: 'http://localhost:4300/webhooks/placements',
        description: 'Voorbeeld: opnames en ontslagen (example: admissions and discharges)',
        filter: { toStatus: ['ADMITTED', 'ENDED'] },
        selection: 'subscription { placementChanged { sequence toStatus placement { id status } } }',
      },
    },
  },
];

/**
 * One example: its named operation with the fragments it uses (a file may hold several
 * operations), printed as the trusted documents are — operation first, fragments by name — so
 * the text the explorer sends is on the allow-list production enforces.
 */
export function readExample(source: ExampleSource): ExplorerExample {
  const document = separateOperations(parse(readFileSync(source.file, 'utf8')))[source.name];
  if (!document) throw new Error(`${source.file} has no operation ${source.name}.`);
  const operation = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  const fragments = document.definitions
    .filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)
    .sort((a, b) => a.name.value.localeCompare(b.name.value));
  const query = print({ kind: Kind.DOCUMENT, definitions: [...operation, ...fragments] });
  return { name: source.name, title: source.title, query, variables: JSON.stringify(source.variables, null, 2) };
}

/** The examples valid against the served API schema (an example for a field the graph lacks is left out). */
export function examplesFor(schema: GraphQLSchema | undefined, sources: readonly ExampleSource[] = EXAMPLE_SOURCES): ExplorerExample[] {
  const examples = sources.map(readExample);
  if (!schema) return examples;
  return examples.filter((example) => validate(schema, parse(example.query)).length === 0);
}
