import { loadAccessPolicy } from '@ketengraph/service-kit';

/**
 * Which subgraph answers each gateway feature that needs a particular one. The gateway serves any
 * Federation 2 supergraph: a feature whose subgraph the supergraph does not have is off, and the
 * rest of the graph is served as usual.
 */
export interface FeatureSubgraphs {
  /** The placement event log: the feed behind subscriptions and webhooks, and `placementPatients` (which patients an access by placement touched, for the access log). */
  events: string;
  /** `patientsByBsn`: which patients a search by BSN touched, for the access log. */
  bsnLookup: string;
  /** Per relationship the access policy grants by (`own-patients`, ...): the subgraph that knows it. */
  relationships: Record<string, string>;
  /** The handover relay's targets: where handovers are recorded, and who knows a patient's CV contents. */
  handovers: string;
  cvEntries: string;
}

/** ketengraph's own chain; the relationships' holders as the access policy declares them. */
export const CHAIN_FEATURE_SUBGRAPHS: FeatureSubgraphs = {
  events: 'plaatsing',
  bsnLookup: 'indicatiestelling',
  relationships: Object.fromEntries(Object.entries(loadAccessPolicy().relationshipHolders).map(([kind, holder]) => [kind, holder.subgraph])),
  handovers: 'kwaliteit',
  cvEntries: 'forensisch-cv',
};

/** The URL of each feature's subgraph in the served supergraph, or null where it has none (the feature is off). */
export interface FeatureEndpoints {
  events: string | null;
  bsnLookup: string | null;
  relationships: Record<string, string>;
  handovers: string | null;
  cvEntries: string | null;
}

export function featureEndpoints(subgraphs: FeatureSubgraphs, endpoints: readonly { name: string; url: string }[]): FeatureEndpoints {
  const urlOf = (name: string) => endpoints.find((endpoint) => endpoint.name === name)?.url ?? null;
  const relationships: Record<string, string> = {};
  for (const [relationship, name] of Object.entries(subgraphs.relationships)) {
    const url = urlOf(name);
    if (url) relationships[relationship] = url;
  }
  return {
    events: urlOf(subgraphs.events),
    bsnLookup: urlOf(subgraphs.bsnLookup),
    relationships,
    handovers: urlOf(subgraphs.handovers),
    cvEntries: urlOf(subgraphs.cvEntries),
  };
}
