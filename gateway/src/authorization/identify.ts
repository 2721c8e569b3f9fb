/**
 * For the access log only: which patient the placements named by an operation refused before
 * execution belong to, asked of plaatsing as the gateway's own system identity (the event reader,
 * whose feed carries the same fact). Never part of a response; on any failure the refusal is still
 * recorded, without the patient.
 */
import { errorDetails, serviceLogger } from '@ketengraph/service-kit';
import type { SubgraphTokens } from '../auth/subgraph-tokens.js';
import { EVENT_READER } from '../events/feed.js';

export type PlacementPatients = (placementIds: readonly string[]) => Promise<(string | null)[]>;

export function placementPatientsAt(url: () => string, tokens: SubgraphTokens, timeoutMs = 3000): PlacementPatients {
  const log = serviceLogger('gateway');
  return async (placementIds) => {
    try {
      const response = await fetch(url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokens.tokenFor(EVENT_READER)}` },
        body: JSON.stringify({
          query: 'query PlacementPatients($ids: [ID!]!) { placementPatients(ids: $ids) }',
          variables: { ids: placementIds.slice(0, 100) },
        }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await response.json()) as { data?: { placementPatients?: (string | null)[] } };
      const patients = body.data?.placementPatients;
      if (!Array.isArray(patients)) throw new Error(`plaatsing answered HTTP ${response.status} without placementPatients`);
      return patients;
    } catch (error) {
      log.warn(errorDetails(error), 'patients of refused placements could not be looked up; recorded without them');
      return placementIds.map(() => null);
    }
  };
}
