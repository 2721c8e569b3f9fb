/**
 * The subgraphs of the graph: name, default port and the SDL file that is their schema's single
 * source. Composition, the gateway's default routing and the start script all read this list.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SubgraphEntry {
  name: string;
  port: number;
  /** Path of the GraphQL endpoint on that port (default `/graphql`). */
  path?: string;
  schemaFile: string;
}

const file = (name: string) => fileURLToPath(new URL(`../subgraphs/${name}/schema.graphql`, import.meta.url));

/** Subgraphs that run as processes of their own (`npm start`, `npm run seed` and the bench start these). */
export const SUBGRAPHS: readonly SubgraphEntry[] = [
  { name: 'indicatiestelling', port: 4001, schemaFile: file('indicatiestelling') },
  { name: 'plaatsing', port: 4002, schemaFile: file('plaatsing') },
  { name: 'forensisch-cv', port: 4003, schemaFile: file('forensisch-cv') },
  { name: 'kwaliteit', port: 4004, schemaFile: file('kwaliteit') },
];

/**
 * Subgraphs the gateway runs in-process (a LocalGraphQLDataSource; the audit log and the webhook
 * state have one owner: the gateway). Their URL in the supergraph is nominal: nothing listens there.
 */
export const GATEWAY_SUBGRAPHS: readonly SubgraphEntry[] = [
  { name: 'audit', port: 4000, path: '/subgraphs/audit/graphql', schemaFile: fileURLToPath(new URL('../gateway/src/audit/schema.graphql', import.meta.url)) },
  {
    name: 'webhooks',
    port: 4000,
    path: '/subgraphs/webhooks/graphql',
    schemaFile: fileURLToPath(new URL('../gateway/src/events/webhooks/schema.graphql', import.meta.url)),
  },
];

/** Everything composed into the supergraph. */
export const COMPOSED_SUBGRAPHS: readonly SubgraphEntry[] = [...SUBGRAPHS, ...GATEWAY_SUBGRAPHS];

export const SUPERGRAPH_FILE = fileURLToPath(new URL('./supergraph.graphql', import.meta.url));

export function defaultSubgraphUrl(entry: SubgraphEntry): string {
  return `http://127.0.0.1:${entry.port}${entry.path ?? '/graphql'}`;
}

export function readSubgraphSdl(entry: SubgraphEntry): string {
  return readFileSync(entry.schemaFile, 'utf8');
}
