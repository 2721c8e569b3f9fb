import { isValidBsn, PLACEMENT_STATUSES } from '@ketengraph/domain';
import {
  DEFAULT_SEED,
  generatePatient,
  generatePatients,
  generateProviders,
  PROVIDER_COUNT,
  PROVIDER_OFFER,
  syntheticBsn,
  type SeedPatient,
} from '@ketengraph/seed-data';
import { describe, expect, it } from 'vitest';

const providers = generateProviders(DEFAULT_SEED);
const first300 = [...generatePatients(DEFAULT_SEED, 300, providers)];

describe('determinism', () => {
  it('the same seed gives identical providers and patients', () => {
    expect(generateProviders(DEFAULT_SEED)).toEqual(providers);
    const again = [...generatePatients(DEFAULT_SEED, 51, generateProviders(DEFAULT_SEED))];
    expect(again).toEqual(first300.slice(0, 51));
  });

  it('one patient regenerates alone exactly as in the full run', () => {
    expect(generatePatient(DEFAULT_SEED, 42, providers)).toEqual(first300[42]);
  });

  it('a different seed gives different ids and data', () => {
    const otherProviders = generateProviders(DEFAULT_SEED + 1);
    const other = [...generatePatients(DEFAULT_SEED + 1, 51, otherProviders)];
    const ids = new Set(first300.slice(0, 51).map((p) => p.id));
    expect(other.filter((p) => ids.has(p.id))).toEqual([]);
    expect(otherProviders.map((p) => p.id)).not.toEqual(providers.map((p) => p.id));
    expect(other.map((p) => p.birthDate.getTime())).not.toEqual(first300.slice(0, 51).map((p) => p.birthDate.getTime()));
  });
});

describe('BSNs', () => {
  it('pass the 11-check, are unique and come from the synthetic 99 range for patients 0..5000', () => {
    const bsns = Array.from({ length: 5001 }, (_, i) => syntheticBsn(i));
    expect(bsns.filter((bsn) => !isValidBsn(bsn))).toEqual([]);
    expect(bsns.filter((bsn) => !bsn.startsWith('99'))).toEqual([]);
    expect(new Set(bsns).size).toBe(5001);
  });

  it('are the BSNs the generated patients carry', () => {
    expect(first300.every((p) => p.bsn === syntheticBsn(p.index) && isValidBsn(p.bsn))).toBe(true);
  });

  it('exist only for the documented index range', () => {
    expect(() => syntheticBsn(-1)).toThrow(RangeError);
    expect(() => syntheticBsn(90_001)).toThrow(RangeError);
    expect(isValidBsn(syntheticBsn(90_000))).toBe(true);
  });
});

describe('providers', () => {
  it('are 190 with unique ids, names and offers from PROVIDER_OFFER', () => {
    expect(providers).toHaveLength(PROVIDER_COUNT);
    expect(PROVIDER_COUNT).toBe(190);
    expect(new Set(providers.map((p) => p.id)).size).toBe(190);
    expect(new Set(providers.map((p) => p.name)).size).toBe(190);
    for (const provider of providers) {
      const offered = PROVIDER_OFFER[provider.type].flatMap(({ careType, levels }) => levels.map((level) => `${careType}:${level}`));
      expect(provider.capacity.map((c) => `${c.careType}:${c.securityLevel}`)).toEqual(offered);
    }
  });
});

describe('placements', () => {
  const placements = first300.flatMap((patient) =>
    patient.trajectories.flatMap((trajectory) => trajectory.placements.map((placement) => ({ patient, trajectory, placement }))),
  );

  it('the first 300 patients have placements in every status', () => {
    const statuses = new Set(placements.map(({ placement }) => placement.status));
    expect([...PLACEMENT_STATUSES].filter((status) => !statuses.has(status))).toEqual([]);
  });

  it("a placement's status is its last step", () => {
    for (const { placement } of placements) expect(placement.steps.at(-1)?.status).toBe(placement.status);
  });

  it('every admitted or ended placement is at a provider that offers its care type and security level', () => {
    const byId = new Map(providers.map((p) => [p.id, p]));
    const misfits = placements
      .filter(({ placement }) => placement.status === 'ADMITTED' || placement.status === 'ENDED')
      .filter(({ placement }) => {
        const provider = byId.get(placement.providerId);
        return !provider?.capacity.some((c) => c.careType === placement.careType && c.securityLevel === placement.securityLevel);
      })
      .map(({ patient, placement }) => `patient ${patient.index}: ${placement.careType}:${placement.securityLevel} at ${byId.get(placement.providerId)?.type}`);
    expect(misfits).toEqual([]);
  });

  it('fit a phase of their trajectory indication that the trajectory has reached', () => {
    const misfits = placements
      .filter(({ trajectory }) => trajectory.trajectoryIndication)
      .filter(
        ({ trajectory, placement }) =>
          !trajectory.trajectoryIndication!.phases.some(
            (phase) =>
              phase.ordinal <= trajectory.currentPhase &&
              phase.careTypes.includes(placement.careType) &&
              placement.securityLevel >= phase.minSecurityLevel &&
              placement.securityLevel <= phase.maxSecurityLevel,
          ),
      )
      .map(({ patient, placement }) => `patient ${patient.index}: ${placement.id}`);
    expect(misfits).toEqual([]);
  });

  it('the current care of every trajectory fits its current phase', () => {
    const trajectories = first300.flatMap((p: SeedPatient) => p.trajectories).filter((t) => t.trajectoryIndication);
    for (const t of trajectories) {
      const phase = t.trajectoryIndication!.phases.find((ph) => ph.ordinal === t.currentPhase)!;
      expect(phase.careTypes).toContain(t.currentCareType);
      expect(t.currentSecurityLevel).toBeGreaterThanOrEqual(phase.minSecurityLevel);
      expect(t.currentSecurityLevel).toBeLessThanOrEqual(phase.maxSecurityLevel);
    }
  });
});

describe('ids at benchmark scale', () => {
  it('are unique across 20,000 patients (each patient draws from its own 128-bit stream)', () => {
    const providers = generateProviders(DEFAULT_SEED);
    const seen = new Set<string>();
    let count = 0;
    for (const patient of generatePatients(DEFAULT_SEED, 20_000, providers)) {
      const ids = [
        patient.id,
        ...patient.cvEntries.map((e) => e.id),
        ...patient.trajectories.flatMap((t) => [t.id, ...t.placements.map((p) => p.id), ...t.indications.map((i) => i.id), ...t.handovers.map((h) => h.id)]),
      ];
      for (const id of ids) seen.add(id);
      count += ids.length;
    }
    expect(seen.size).toBe(count);
  });
});

describe('the seed as of today', () => {
  it('dates no placement step, handover or CV entry after today, and keeps transfers whole', () => {
    const today = new Date();
    const cutoff = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
    const providers = generateProviders(DEFAULT_SEED);
    let future = 0;
    for (const patient of generatePatients(DEFAULT_SEED, 2000, providers, today)) {
      for (const trajectory of patient.trajectories) {
        const ids = new Set(trajectory.placements.map((p) => p.id));
        for (const placement of trajectory.placements) {
          future += placement.steps.filter((s) => s.at.getTime() > cutoff).length;
          expect(placement.status).toBe(placement.steps.at(-1)!.status);
          if (placement.transferredFromId) expect(trajectory.placements.find((p) => p.id === placement.transferredFromId)?.status).toBe('TRANSFERRED');
          if (placement.status === 'TRANSFERRED') expect(trajectory.placements.some((p) => p.transferredFromId === placement.id)).toBe(true);
          expect(ids.has(placement.id)).toBe(true);
        }
        future += trajectory.handovers.filter((h) => h.handedOverOn.getTime() > cutoff).length;
      }
      future += patient.cvEntries.filter((e) => e.occurredOn.getTime() > cutoff || e.recordedAt.getTime() > cutoff).length;
    }
    expect(future).toBe(0);
  });

  it('draws the same patients whatever the date: only what lies after it is left out', () => {
    const providers = generateProviders(DEFAULT_SEED);
    const [early] = [...generatePatients(DEFAULT_SEED, 1, providers, new Date('2020-01-01T00:00:00Z'))];
    const [late] = [...generatePatients(DEFAULT_SEED, 1, providers, new Date('2040-01-01T00:00:00Z'))];
    expect(early!.id).toBe(late!.id);
    expect(early!.trajectories.map((t) => t.id)).toEqual(late!.trajectories.map((t) => t.id));
    expect(late!.trajectories.flatMap((t) => t.placements).length).toBeGreaterThanOrEqual(early!.trajectories.flatMap((t) => t.placements).length);
  });
});
