/**
 * Composes the supergraph from the subgraphs' SDL with @apollo/composition. The committed
 * `schema/supergraph.graphql` is the output for the default URLs; tests compose again with the
 * URLs of the subgraphs they started.
 */
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { COMPOSED_SUBGRAPHS, defaultSubgraphUrl, readSubgraphSdl } from './subgraphs.js';

export class CompositionError extends Error {
  override name = 'CompositionError';
}

export function composeSupergraph(urls: Record<string, string> = {}): string {
  const result = composeServices(
    COMPOSED_SUBGRAPHS.map((entry) => ({ name: entry.name, url: urls[entry.name] ?? defaultSubgraphUrl(entry), typeDefs: parse(readSubgraphSdl(entry)) })),
  );
  if (result.errors) {
    throw new CompositionError(`Composition failed:\n${result.errors.map((error) => `- ${error.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}
