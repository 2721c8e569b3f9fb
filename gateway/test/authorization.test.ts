import { grantsFor, loadAccessPolicy, readSchemaPolicies, type Principal } from '@ketengraph/service-kit';
import { buildSchema, parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { completeResponse } from '../src/authorization/complete.js';
import { PATIENT_KEY, rewriteOperation } from '../src/authorization/rewrite.js';

/** A small graph with the access policy's categories on its fields, as the supergraph carries them. */
const SDL = `
  directive @policy(policies: [[String!]!]!) on FIELD_DEFINITION | OBJECT
  type Query { patient(id: ID!): Patient  providers: [Provider!]! }
  type Patient { id: ID!  name: String @policy(policies: [["identity"]])  ward: String @policy(policies: [["logistics"]]) }
  type Provider { id: ID!  name: String! }
`;
const schema = buildSchema(SDL);
const policy = loadAccessPolicy();
// Patient-bound types (and how to reach each one's patient) as the access policy declares them.
const policies = readSchemaPolicies(SDL, policy.patientTypes);
const as = (role: string, purpose: string | null): Principal => ({ subject: 'u', organisationId: 'o', role, scopes: [], purpose });
const rewrite = (query: string, principal: Principal) => rewriteOperation(schema, parse(query), null, policies, grantsFor(policy, principal))!;

describe('authorization: rewrite and complete', () => {
  it('removes what the role may not see, adds the hidden patient reference, and says patient data is asked', () => {
    const result = rewrite('{ patient(id: "p-1") { id name ward } providers { name } }', as('inspectie', 'kwaliteitstoezicht'));
    expect(result.removedCount).toBe(2);
    expect(result.touchesPatientData).toBe(true);
    expect(result.nothingLeft).toBe(false);
    expect(print(result.document)).toContain(`${PATIENT_KEY}: id`);
    expect(print(result.document)).not.toMatch(/\bname\b.*\bward\b/s);
    expect(
      result.plan.fields
        .get('patient')!
        .plan!.removals.map((r) => r.coordinate)
        .sort(),
    ).toEqual(['Patient.name', 'Patient.ward']);
  });

  it('keeps everything for a role granted it, and a document without patient data needs no purpose', () => {
    const granted = rewrite('{ patient(id: "p-1") { id name ward } }', as('plaatser', 'plaatsing'));
    expect(granted.removedCount).toBe(0);
    const providers = rewrite('{ providers { id name } }', as('plaatser', null));
    expect(providers.touchesPatientData).toBe(false);
  });

  it('completes the response: withheld fields null with UNAUTHORIZED_FIELD_OR_TYPE at their path, hidden keys gone, access per patient', () => {
    const { plan } = rewrite('{ patient(id: "p-1") { id name ward } }', as('inspectie', 'kwaliteitstoezicht'));
    const data = { patient: { id: 'p-1', [PATIENT_KEY]: 'p-1' } };
    const completion = completeResponse(data, plan, {}, []);
    expect(data).toEqual({ patient: { id: 'p-1', name: null, ward: null } });
    expect(completion.errors.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['patient', 'name'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
      [['patient', 'ward'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
    ]);
    const access = completion.access.get('p-1')!;
    expect([...access.withheld.keys()].sort()).toEqual(['Patient.name', 'Patient.ward']);
  });
});
