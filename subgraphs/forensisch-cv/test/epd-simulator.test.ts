import { DEFAULT_SEED, generatePatients, generateProviders } from '@ketengraph/seed-data';
import { describe, expect, it } from 'vitest';
import { mapResource } from '../src/epd/mapping.js';
import { simulatedEpdProviders, simulatedEpdRecords } from '../src/epd/simulator.js';

describe("the development system's simulated EPDs", () => {
  const providers = simulatedEpdProviders(DEFAULT_SEED, 40);
  const records = simulatedEpdRecords(DEFAULT_SEED, 40, providers);

  it("are three seeded providers, the explorer's provider with patients first, the same every time", () => {
    const named = generateProviders(DEFAULT_SEED).find((provider) => provider.name === 'GGz Centraal FPC Utrecht 4')!;
    expect(providers).toHaveLength(3);
    expect(providers[0]).toBe(named.id);
    expect(simulatedEpdProviders(DEFAULT_SEED, 40)).toEqual(providers);
    expect(JSON.stringify(simulatedEpdRecords(DEFAULT_SEED, 40, providers).get(named.id))).toBe(JSON.stringify(records.get(named.id)));
  });

  it("hold the provider's current patients by BSN, with records that map (and some that are reported as unmapped)", () => {
    const patient1 = [...generatePatients(DEFAULT_SEED, 2, generateProviders(DEFAULT_SEED))][1]!;
    const own = records.get(providers[0]!)!.flat();
    expect(own.some((resource) => resource.resourceType === 'Patient' && JSON.stringify(resource).includes(patient1.bsn))).toBe(true);
    const outcomes = [...records.values()]
      .flat(2)
      .filter((resource) => resource.resourceType !== 'Patient')
      .map((resource) => mapResource(resource));
    expect(outcomes.filter((outcome) => outcome.outcome === 'mapped').length).toBeGreaterThan(10);
    expect(new Set(outcomes.map((outcome) => (outcome.outcome === 'mapped' ? outcome.kind : outcome.reason)))).toEqual(
      new Set(['RISK_ASSESSMENT', 'DIAGNOSIS', 'EARLY_WARNING_SIGN', 'INCIDENT', 'TREATMENT', 'NO_CLASSIFICATION']),
    );
    // Some risk assessments have a later version.
    expect(
      records.get(providers[0]!)!.some((versions) => versions.length > 1) || [...records.values()].some((list) => list.some((versions) => versions.length > 1)),
    ).toBe(true);
  });
});
