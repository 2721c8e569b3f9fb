/**
 * The subgraphs of the graph: name, default port and the SDL file that is their schema's single
 * source. Composition, the gateway's default routing and the start script all read this list.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SubgraphEntry {
  name: string;
  port: number;
  schemaFile: string;
}

const file = (name: string) => fileURLToPath(new URL(`../subgraphs/${name}/schema.graphql`, import.meta.url));

export const SUBGRAPHS: readonly SubgraphEntry[] = [
  { name: 'indicatiestelling', port: 4001, schemaFile: file('indicatiestelling') },
  { name: 'plaatsing', port: 4002, schemaFile: file('plaatsing') },
  { name: 'forensisch-cv', port: 4003, schemaFile: file('forensisch-cv') },
  { name: 'kwaliteit', port: 4004, schemaFile: file('kwaliteit') },
];

export const SUPERGRAPH_FILE = fileURLToPath(new URL('./supergraph.graphql', import.meta.url));

export function defaultSubgraphUrl(entry: SubgraphEntry): string {
  return `http://127.0.0.1:${entry.port}/graphql`;
}

export function readSubgraphSdl(entry: SubgraphEntry): string {
  return readFileSync(entry.schemaFile, 'utf8');
}
