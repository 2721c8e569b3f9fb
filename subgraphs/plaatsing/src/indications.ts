/**
 * The indication lives in indicatiestelling; plaatsing asks it over HTTP whether a placement fits.
 * Any failure to get an answer (down, slow, erroring) becomes DEPENDENCY_UNAVAILABLE, so the
 * caller can retry; a missing trajectory is an answer (null).
 */
import { domainError } from '@ketengraph/service-kit';
import type { TrajectoryIndicationView } from './domain/rules.js';

export interface IndicationSource {
  /**
   * The trajectory with its current indication, or null if indicatiestelling does not know it.
   * Asked with the gateway token of the request being served, so indicatiestelling answers
   * for the same principal (and the token's short life bounds the call).
   */
  trajectory(id: string, gatewayToken: string): Promise<TrajectoryIndicationView | null>;
}

const TRAJECTORY_QUERY = `query($id: ID!) { trajectory(id: $id) { id status patient { id } currentCareType currentSecurityLevel currentPhase { minSecurityLevel maxSecurityLevel careTypes } } }`;

interface TrajectoryResponse {
  data?: {
    trajectory: null | {
      id: string;
      status: TrajectoryIndicationView['status'];
      patient: { id: string };
      currentCareType: TrajectoryIndicationView['currentCareType'];
      currentSecurityLevel: number;
      currentPhase: TrajectoryIndicationView['currentPhase'];
    };
  };
  errors?: unknown[];
}

export function httpIndicationSource(url: string, timeoutMs: number): IndicationSource {
  const unavailable = () => domainError('DEPENDENCY_UNAVAILABLE', 'The indication service (indicatiestelling) did not answer; nothing was changed, try again later.', { service: 'indicatiestelling' });
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
      if (body.errors?.length || !body.data) throw unavailable();
      const t = body.data.trajectory;
      if (!t) return null;
      return {
        id: t.id, status: t.status, patientId: t.patient.id, currentCareType: t.currentCareType,
        currentSecurityLevel: t.currentSecurityLevel, currentPhase: t.currentPhase,
      };
    },
  };
}
