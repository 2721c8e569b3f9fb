/**
 * For the access log only: which patient an operation refused before execution concerns, when it
 * named the patient indirectly — the patient of a `placement(id:)` (asked of plaatsing as the
 * event reader, whose feed carries the same fact) or of a `patientByBsn(bsn:)` (asked of
 * indicatiestelling as the audit identifier). Never part of a response; on any failure the
 * refusal is still recorded, without the patient.
 */
import { errorDetails, serviceLogger, type Principal } from '@ketengraph/service-kit';
import type { SubgraphTokens } from '../federation/subgraph-tokens.js';
import { EVENT_READER } from '../events/feed.js';

/** Keys (placement ids, BSNs) → the patient id each names, `null` where none; in order. */
export type PatientLookup = (keys: readonly string[]) => Promise<(string | null)[]>;

/**
 * The gateway's system identity for naming the patient of a refused `patientByBsn` in the access
 * log: a role without patient grants and a scope (`audit:identify`) no role is granted.
 */
export const AUDIT_IDENTIFIER: Principal = Object.freeze({
  subject: 'urn:ketengraph:gateway:audit-identifier',
  organisationId: 'ketengraph-gateway',
  role: 'beleid',
  scopes: Object.freeze(['audit:identify']),
  purpose: null,
});

const log = serviceLogger('gateway');

/** Asks one internal list field (`field(variable: [keys])`) of a subgraph as a system principal. */
function lookupAt(url: () => string, tokens: SubgraphTokens, as: Principal, field: string, argument: string, type: string, timeoutMs: number): PatientLookup {
  return async (keys) => {
    try {
      const response = await fetch(url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokens.tokenFor(as)}` },
        body: JSON.stringify({ query: `query($keys: [${type}!]!) { ${field}(${argument}: $keys) }`, variables: { keys: keys.slice(0, 100) } }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await response.json()) as { data?: Record<string, (string | null)[] | undefined> };
      const patients = body.data?.[field];
      if (!Array.isArray(patients)) throw new Error(`the subgraph answered HTTP ${response.status} without ${field}`);
      return patients;
    } catch (error) {
      log.warn({ field, ...errorDetails(error) }, 'patients of a refused operation could not be looked up; recorded without them');
      return keys.map(() => null);
    }
  };
}

export function placementPatientsAt(url: () => string, tokens: SubgraphTokens, timeoutMs = 3000): PatientLookup {
  return lookupAt(url, tokens, EVENT_READER, 'placementPatients', 'ids', 'ID', timeoutMs);
}

export function bsnPatientsAt(url: () => string, tokens: SubgraphTokens, timeoutMs = 3000): PatientLookup {
  return lookupAt(url, tokens, AUDIT_IDENTIFIER, 'patientsByBsn', 'bsns', 'BSN', timeoutMs);
}
