import { loadAccessPolicy } from '@ketengraph/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation, type GraphQLResponse } from './support/federation.js';
import { createAccessScenario, principal, type AccessScenario } from './support/scenario.js';

/**
 * Generated from schema/access-policy.json: every role × data category through the real gateway
 * and subgraphs, including care providers with and without a relationship to the patient (and
 * after the handover period) and probation organisations assigned or not. Granted or withheld
 * must be exactly what the rules file says.
 */
const policy = loadAccessPolicy();

/** One probe per category: a query and the path of the value it asks for. */
const PROBES: Record<string, { query: string; path: string[]; counts?: { path: string[] } }> = {
  identity: { query: 'query($id: ID!) { patient(id: $id) { bsn } }', path: ['patient', 'bsn'] },
  judicial: { query: 'query($id: ID!) { patient(id: $id) { forensicCv { offences { totalCount } } } }', path: ['patient', 'forensicCv', 'offences'] },
  medical: { query: 'query($id: ID!) { patient(id: $id) { forensicCv { diagnoses { totalCount } } } }', path: ['patient', 'forensicCv', 'diagnoses'] },
  risk: { query: 'query($id: ID!) { patient(id: $id) { forensicCv { riskAssessments { totalCount } } } }', path: ['patient', 'forensicCv', 'riskAssessments'] },
  logistics: {
    query: 'query($id: ID!) { patient(id: $id) { placements { totalCount edges { node { id } } } } }',
    path: ['patient', 'placements', 'edges'],
    counts: { path: ['patient', 'placements', 'totalCount'] },
  },
  aggregate: { query: '{ freeCapacity(careType: KLINISCH) { freePlaces } }', path: ['freeCapacity'] },
  audit: {
    query: 'query($id: ID!) { auditTrail(patientId: $id, from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { totalCount } }',
    path: ['auditTrail'],
  },
};

type Relation = 'related' | 'unrelated' | 'n/a';

/** The cases per role: which organisation the caller acts for, and whether it has the relationship. */
function cases(role: string, scenario: AccessScenario): { label: string; organisationId: string; relation: Relation }[] {
  if (role === 'zorgaanbieder') {
    return [
      { label: 'active placement', organisationId: scenario.providers.active, relation: 'related' },
      { label: 'placement ended within the handover period', organisationId: scenario.providers.endedRecently, relation: 'related' },
      { label: 'placement ended after the handover period', organisationId: scenario.providers.endedLongAgo, relation: 'unrelated' },
      { label: 'no placement', organisationId: scenario.providers.none, relation: 'unrelated' },
    ];
  }
  if (role === 'reclassering') {
    return [
      { label: 'assigned to the trajectory', organisationId: scenario.probation.assigned, relation: 'related' },
      { label: 'not assigned', organisationId: scenario.probation.other, relation: 'unrelated' },
    ];
  }
  return [{ label: 'any organisation', organisationId: `${role}-org`, relation: 'n/a' }];
}

function expected(role: string, category: string, relation: Relation): 'granted' | 'counts' | 'withheld' {
  const grant = policy.roles[role]?.[category];
  if (grant === 'all') return 'granted';
  if (grant === 'own-patients' || grant === 'own-supervisees') return relation === 'related' ? 'granted' : 'withheld';
  if (grant === 'counts') return 'counts';
  return 'withheld';
}

function at(data: unknown, path: string[]): unknown {
  return path.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), data);
}

function hasUnauthorizedAt(response: GraphQLResponse, path: string[]): boolean {
  return (response.errors ?? []).some((e) => e.extensions?.code === 'UNAUTHORIZED_FIELD_OR_TYPE' && JSON.stringify(e.path) === JSON.stringify(path));
}

/** Withheld at the probed field or at the categorised field that contains it (a connection withheld whole). */
function withheldAtOrAbove(response: GraphQLResponse, path: string[]): boolean {
  return path.some((_, i) => hasUnauthorizedAt(response, path.slice(0, i + 1)));
}

describe('access matrix (generated from schema/access-policy.json)', () => {
  let federation: Federation;
  let scenario: AccessScenario;
  beforeAll(async () => {
    federation = await startFederation({ seedPatients: 30 });
    scenario = await createAccessScenario(federation);
  });
  afterAll(() => federation?.close());

  for (const role of Object.keys(policy.roles)) {
    for (const category of Object.keys(policy.categories)) {
      it(`${role} × ${category}`, async () => {
        for (const { label, organisationId, relation } of cases(role, scenario)) {
          const probe = PROBES[category]!;
          const response = await federation.request(probe.query, { id: scenario.patientId }, { principal: principal(role, organisationId) });
          const outcome = expected(role, category, relation);
          const value = at(response.data, probe.path);
          const context = `${role} (${label}) reading ${category}`;
          expect(
            (response.errors ?? []).filter((e) => e.extensions?.code !== 'UNAUTHORIZED_FIELD_OR_TYPE'),
            context,
          ).toEqual([]);
          if (outcome === 'granted') {
            expect(value, context).not.toBeNull();
            expect(value, context).not.toBeUndefined();
            expect(hasUnauthorizedAt(response, probe.path), context).toBe(false);
          } else if (outcome === 'counts') {
            expect(at(response.data, probe.counts!.path), context).toEqual(expect.any(Number));
            expect(value ?? null, context).toBeNull();
            expect(hasUnauthorizedAt(response, probe.path), context).toBe(true);
          } else {
            expect(value ?? null, context).toBeNull();
            // Withheld by the gateway, or — for relationship rules — by the subgraph that holds the field.
            expect(withheldAtOrAbove(response, probe.path), context).toBe(true);
          }
        }
      });
    }
  }
});
