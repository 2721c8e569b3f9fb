/**
 * The indication lives in indicatiestelling; plaatsing asks it over HTTP whether a placement fits.
 * Any failure to get an answer (down, slow, erroring) becomes DEPENDENCY_UNAVAILABLE, so the
 * caller can retry; a missing trajectory is an answer (null).
 */
import { domainError, type TrajectoryFacts } from '@ketengraph/service-kit';

export interface IndicationSource {
  /**
   * The trajectory with its current indication, or null if indicatiestelling does not know it.
   * Asked with the gateway token of the request being served, so indicatiestelling answers
   * for the same principal (and the token's short life bounds the call).
   */
  trajectory(id: string, gatewayToken: string): Promise<TrajectoryFacts | null>;
}

// The internal field answers whatever the caller may read: a write rule must not depend on read grants.
const TRAJECTORY_QUERY = `query($id: ID!) { trajectoryFacts(ids: [$id]) { id patientId status legalTitle probationOrganisation currentCareType currentSecurityLevel currentPhase { minSecurityLevel maxSecurityLevel careTypes } } }`;

interface TrajectoryResponse {
  data?: { trajectoryFacts: TrajectoryFacts[] };
  errors?: unknown[];
}

export function httpIndicationSource(url: string, timeoutMs: number): IndicationSource {
  const unavailable = () =>
    domainError('DEPENDENCY_UNAVAILABLE', 'The indication service (indicatiestelling) did not answer; nothing was changed, try again later.', {
      service: 'indicatiestelling',
    });
  return {
    async trajectory(id, gatewayToken) {
      let body: TrajectoryResponse;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${gatewayToken}` },
          body: JSON.stringify({ query: TRAJECTORY_QUERY, variables: { id } }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!response.ok) throw unavailable();
        body = (await response.json()) as TrajectoryResponse;
      } catch {
        throw unavailable();
      }
      if (body.errors?.length || !Array.isArray(body.data?.trajectoryFacts)) throw unavailable();
      return body.data.trajectoryFacts.find((t) => t.id === id) ?? null;
    },
  };
}
