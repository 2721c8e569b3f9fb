/**
 * Patient data the access policy does not classify is withheld from everyone: a partner subgraph
 * adding a field to a patient-bound type (`patientTypes` in schema/access-policy.json) opens no
 * hole before the policy gives the field a category. The real supergraph and policy, with one
 * field added the way composition would carry a partner's.
 */
import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import { grantsFor, loadAccessPolicy, readSchemaPolicies, UNAUTHORIZED_CODE, UNCLASSIFIED } from '@ketengraph/service-kit';
import { extendSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SUPERGRAPH_FILE } from '../../schema/subgraphs.js';
import { completeResponse } from '../src/authorization/complete.js';
import { rewriteOperation } from '../src/authorization/rewrite.js';
import { withoutSecurityPurpose } from '../src/federation/gateway.js';

const PARTNER_FIELD = 'extend type Patient { partnerRiskNote: String }';
const policy = loadAccessPolicy();
const supergraphSdl = readFileSync(SUPERGRAPH_FILE, 'utf8');
const schema = extendSchema(Supergraph.build(withoutSecurityPurpose(supergraphSdl)).apiSchema().toGraphQLJSSchema(), parse(PARTNER_FIELD));
const policies = readSchemaPolicies(`${supergraphSdl}\n${PARTNER_FIELD}`, policy.patientTypes);
// The role that sees every category of a patient, for its purpose: nothing else would withhold the field.
const indicatiesteller = grantsFor(policy, { subject: 'u', organisationId: 'nifp', role: 'indicatiesteller', scopes: [], purpose: 'indicatiestelling' });

describe('a field of a patient-bound type that the policy does not classify', () => {
  it('is named as unclassified (what `npm run policy` lists); the served supergraph has none', () => {
    expect(policies.unclassified()).toEqual(['Patient.partnerRiskNote']);
    expect(readSchemaPolicies(supergraphSdl, policy.patientTypes).unclassified()).toEqual([]);
  });

  it('is withheld even from a role granted every category, with UNAUTHORIZED_FIELD_OR_TYPE at its path', () => {
    const document = parse('query P($id: ID!) { patient(id: $id) { id birthDate partnerRiskNote } }');
    expect(validate(schema, document)).toEqual([]);
    const rewrite = rewriteOperation(schema, document, 'P', policies, indicatiesteller, { policy, variables: { id: 'p1' } })!;
    expect(rewrite.removedCount).toBe(1);
    expect(rewrite.touchesPatientData).toBe(true);
    const patientPlan = rewrite.plan.fields.get('patient')!.plan!;
    expect(patientPlan.removals.map(({ coordinate, categories }) => ({ coordinate, categories }))).toEqual([
      { coordinate: 'Patient.partnerRiskNote', categories: [UNCLASSIFIED] },
    ]);
    expect([...patientPlan.fields.keys()]).toContain('birthDate');

    const completion = completeResponse({ patient: { id: 'p1', birthDate: '1980-01-01', kg__patient: 'p1' } }, rewrite.plan, {}, []);
    expect(completion.errors).toEqual([expect.objectContaining({ path: ['patient', 'partnerRiskNote'], extensions: { code: UNAUTHORIZED_CODE } })]);
    // The access log records it as patient data withheld, under the category that says why.
    expect(completion.access.get('p1')?.withheld.get('Patient.partnerRiskNote')).toEqual([UNCLASSIFIED]);
  });

  it('is delivered once the policy classifies it', () => {
    const classified = readSchemaPolicies(
      `${supergraphSdl}\nextend type Patient { partnerRiskNote: String @policy(policies: [["risk"]]) }`,
      policy.patientTypes,
    );
    expect(classified.unclassified()).toEqual([]);
    const rewrite = rewriteOperation(schema, parse('{ patient(id: "p1") { partnerRiskNote } }'), null, classified, indicatiesteller)!;
    expect(rewrite.removedCount).toBe(0);
  });
});
