/**
 * The synthetic forensic care chain: 190 contracted providers and any number of patients, each
 * with trajectories, indications, placements in every state, forensic-CV entries and handovers.
 * Every patient is generated from its own random stream, so `generatePatient(seed, i)` is cheap,
 * repeatable and identical in every subgraph that seeds its slice of it.
 */
import { syntheticBsn } from './bsn.js';
import { addDays, Random } from './random.js';
import {
  CARE_INTENSITIES,
  HANDOVER_ITEMS,
  INDICATION_ISSUERS,
  LEGAL_TITLES,
  PROBATION_ORGANISATIONS,
  QUALITY_PILLARS,
  REGIONS,
  RISK_INSTRUMENTS,
  RISK_LEVELS,
  type CareType,
  type HandoverItem,
  type LegalTitle,
  type PlacementStatus,
  type ProviderType,
  type Region,
} from '@ketengraph/domain';

export const DEFAULT_SEED = 20261122;
export const PROVIDER_COUNT = 190;

/** What each kind of provider typically offers: care type and the security levels it can hold. */
export const PROVIDER_OFFER: Record<ProviderType, { careType: CareType; levels: number[] }[]> = {
  FPC: [{ careType: 'KLINISCH', levels: [4, 5] }],
  FPK: [{ careType: 'KLINISCH', levels: [3] }],
  FPA: [{ careType: 'KLINISCH', levels: [2] }],
  PPC: [{ careType: 'KLINISCH', levels: [3, 4] }],
  FBW: [{ careType: 'VERBLIJF', levels: [1, 2] }],
  AMBULANT: [{ careType: 'AMBULANT', levels: [1] }],
};

export interface SeedProvider {
  id: string;
  name: string;
  type: ProviderType;
  region: Region;
  capacity: { careType: CareType; securityLevel: number; totalPlaces: number }[];
  qualityReports: {
    id: string;
    year: number;
    submittedOn: Date;
    forensicPatientCount: number;
    djiFundedShare: number;
    pillarScores: { pillar: number; maturity: number; explanation: string }[];
    indicators: { code: string; name: string; value: number; unit: string; explanation: string }[];
  }[];
}

export interface SeedPhase {
  ordinal: number;
  name: string;
  minSecurityLevel: number;
  maxSecurityLevel: number;
  careTypes: CareType[];
}

export interface SeedIndication {
  id: string;
  issuer: string;
  careType: CareType;
  securityLevel: number;
  intensity: (typeof CARE_INTENSITIES)[number];
  validFrom: Date;
  validUntil: Date;
  status: 'ISSUED' | 'SUPERSEDED' | 'EXPIRED' | 'WITHDRAWN';
  issuedOn: Date;
}

export interface SeedPlacementStep {
  status: PlacementStatus;
  at: Date;
  reason?: string;
}

export interface SeedPlacement {
  id: string;
  providerId: string;
  careType: CareType;
  securityLevel: number;
  status: PlacementStatus;
  steps: SeedPlacementStep[];
  transferredFromId?: string;
}

export interface SeedHandover {
  id: string;
  fromProviderId: string | null;
  toProviderId: string;
  handedOverOn: Date;
  items: HandoverItem[];
}

export interface SeedTrajectory {
  id: string;
  legalTitle: LegalTitle;
  titleStartsOn: Date;
  titleEndsOn: Date | null;
  probationOrganisation: string | null;
  status: 'ACTIVE' | 'CLOSED';
  currentPhase: number;
  currentCareType: CareType;
  currentSecurityLevel: number;
  trajectoryIndication: { id: string; issuedOn: Date; issuer: string; phases: SeedPhase[] } | null;
  indications: SeedIndication[];
  placements: SeedPlacement[];
  handovers: SeedHandover[];
}

export type SeedCvEntry =
  | CvBase<'OFFENCE', { offenceType: string; article: string; committedOn: string; description: string }>
  | CvBase<'DIAGNOSIS', { classification: string; description: string }>
  | CvBase<'RISK_ASSESSMENT', { instrument: string; outcomeLevel: string; riskFactors: string[]; protectiveFactors: string[] }>
  | CvBase<'INCIDENT', { incidentType: string; severity: string; description: string }>
  | CvBase<'LEAVE', { leaveType: string; endsOn: string; outcome: string }>
  | CvBase<'TREATMENT', { treatmentType: string; endsOn: string | null; summary: string }>;

interface CvBase<K extends string, D> {
  id: string;
  entryId: string;
  version: number;
  kind: K;
  occurredOn: Date;
  recordedAt: Date;
  authorId: string;
  authorOrganisationId: string;
  details: D;
}

export interface SeedPatient {
  index: number;
  id: string;
  bsn: string;
  givenName: string;
  familyNamePrefix: string | null;
  familyName: string;
  birthDate: Date;
  registeredAt: Date;
  trajectories: SeedTrajectory[];
  cvEntries: SeedCvEntry[];
}

const GIVEN_NAMES = [
  'Daan',
  'Sem',
  'Lucas',
  'Milan',
  'Levi',
  'Bram',
  'Jesse',
  'Thijs',
  'Ruben',
  'Stijn',
  'Mohamed',
  'Youssef',
  'Kevin',
  'Dennis',
  'Sanne',
  'Fleur',
  'Lotte',
  'Emma',
  'Iris',
  'Noor',
  'Anouk',
  'Priya',
  'Fatima',
  'Jeroen',
  'Marco',
  'Bas',
  'Rik',
  'Tim',
  'Wouter',
  'Sven',
];
const FAMILY_NAMES = [
  ['de', 'Jong'],
  [null, 'Jansen'],
  ['de', 'Vries'],
  ['van den', 'Berg'],
  ['van', 'Dijk'],
  [null, 'Bakker'],
  [null, 'Visser'],
  [null, 'Smit'],
  [null, 'Meijer'],
  ['de', 'Boer'],
  [null, 'Mulder'],
  ['de', 'Groot'],
  [null, 'Bos'],
  [null, 'Vos'],
  [null, 'Peters'],
  [null, 'Hendriks'],
  ['van', 'Leeuwen'],
  [null, 'Dekker'],
  [null, 'Brouwer'],
  ['de', 'Wit'],
  [null, 'Dijkstra'],
  [null, 'Smits'],
  ['de', 'Graaf'],
  ['van der', 'Meer'],
  ['van der', 'Linden'],
  [null, 'Kok'],
  [null, 'Jacobs'],
  ['de', 'Haan'],
  [null, 'Vermeulen'],
  ['van den', 'Heuvel'],
  [null, 'El Amrani'],
  [null, 'Yilmaz'],
] as const;
const PLACE_NAMES = [
  'Amsterdam',
  'Rotterdam',
  'Utrecht',
  'Eindhoven',
  'Groningen',
  'Zwolle',
  'Nijmegen',
  'Den Haag',
  'Arnhem',
  'Breda',
  'Maastricht',
  'Assen',
  'Almere',
  'Haarlem',
  'Leeuwarden',
  'Venray',
  'Dordrecht',
  'Amersfoort',
  'Tilburg',
  'Deventer',
];
const PROVIDER_BRANDS = [
  'De Kijvelanden',
  'Pompestichting',
  'Van der Hoeven',
  'Mesdag',
  'Oostvaarderskliniek',
  'Fivoor',
  'Inforsa',
  'Trajectum',
  'GGz Centraal',
  'Antes',
  'Parnassia',
  'Reinier van Arkel',
  'Mondriaan',
  'Lentis',
  'Dimence',
  'Tactus',
  'Leger des Heils',
  'Exodus',
  'Kwintes',
  'De Waag',
];
const OFFENCES = [
  ['GEWELD', '302 Sr'],
  ['BEDREIGING', '285 Sr'],
  ['ZEDEN', '242 Sr'],
  ['BRANDSTICHTING', '157 Sr'],
  ['DIEFSTAL_MET_GEWELD', '312 Sr'],
  ['STALKING', '285b Sr'],
  ['HUISELIJK_GEWELD', '304 Sr'],
] as const;
const DIAGNOSES = [
  ['F20.0', 'Schizofrenie, paranoïde type'],
  ['F60.2', 'Antisociale persoonlijkheidsstoornis'],
  ['F60.3', 'Borderline persoonlijkheidsstoornis'],
  ['F10.2', 'Stoornis in alcoholgebruik'],
  ['F12.2', 'Stoornis in cannabisgebruik'],
  ['F43.1', 'Posttraumatische stressstoornis'],
  ['F90.0', 'ADHD'],
] as const;
const RISK_FACTORS = [
  'middelengebruik',
  'impulsiviteit',
  'gebrek aan probleeminzicht',
  'antisociaal netwerk',
  'eerdere geweldsdelicten',
  'instabiele huisvesting',
  'behandelontrouw',
];
const PROTECTIVE_FACTORS = ['steunend netwerk', 'dagbesteding', 'motivatie voor behandeling', 'stabiele huisvesting', 'medicatietrouw', 'zelfcontrole'];
const INCIDENTS = ['AGRESSIE_VERBAAL', 'AGRESSIE_FYSIEK', 'MIDDELENGEBRUIK', 'ONTTREKKING', 'ZELFBESCHADIGING'] as const;
const TREATMENTS = ['AGRESSIEREGULATIE', 'EMDR', 'SCHEMATHERAPIE', 'FACT', 'MEDICATIE', 'VERSLAVINGSZORG'] as const;
const DECLINE_REASONS = [
  'Geen passend behandelaanbod voor deze problematiek',
  'Groepssamenstelling laat opname nu niet toe',
  'Beveiligingsniveau past niet bij de afdeling',
  'Patiënt weigert intake',
];

/** Stable ids for things that are not patient-specific. */
function providerId(seed: number, index: number): string {
  return new Random(seed, `provider-id:${index}`).uuid();
}

export function generateProviders(seed = DEFAULT_SEED): SeedProvider[] {
  const providers: SeedProvider[] = [];
  // Weights reflect the sector: many outpatient and sheltered-housing providers, few FPCs.
  const typeWeights: [ProviderType, number][] = [
    ['FPC', 12],
    ['FPK', 14],
    ['FPA', 30],
    ['PPC', 4],
    ['FBW', 60],
    ['AMBULANT', 70],
  ];
  const typeByIndex: ProviderType[] = typeWeights.flatMap(([type, count]) => Array<ProviderType>(count).fill(type));
  for (let index = 0; index < PROVIDER_COUNT; index++) {
    const rng = new Random(seed, `provider:${index}`);
    const type = typeByIndex[index]!;
    const region = REGIONS[index % REGIONS.length]!;
    const capacity = PROVIDER_OFFER[type].flatMap(({ careType, levels }) => levels.map((securityLevel) => ({ careType, securityLevel, totalPlaces: 0 })));
    const qualityReports = [2023, 2024, 2025].map((year) => {
      const r = new Random(seed, `quality:${index}:${year}`);
      return {
        id: r.uuid(),
        year,
        submittedOn: new Date(Date.UTC(year + 1, 4, r.int(1, 31))),
        forensicPatientCount: r.int(5, 400),
        djiFundedShare: Math.round(r.next() * 100) / 100,
        pillarScores: QUALITY_PILLARS.map((pillar) => ({
          pillar: pillar.number,
          maturity: Math.min(4, r.int(0, 2) + (year - 2023)),
          explanation: `Plan-do-check-act voor pijler ${pillar.number} (${pillar.name}) in ${year}.`,
        })),
        indicators: [
          {
            code: 'SEPARATIES',
            name: 'Aantal separaties per 1.000 verpleegdagen',
            value: Math.round(r.next() * 500) / 100,
            unit: 'per 1000 dagen',
            explanation: 'Geregistreerde separaties.',
          },
          {
            code: 'RISICOTAXATIE_TIJDIG',
            name: 'Aandeel tijdige risicotaxaties',
            value: Math.round(r.next() * 100) / 100,
            unit: 'aandeel',
            explanation: 'Risicotaxatie binnen 6 weken na opname.',
          },
        ],
      };
    });
    providers.push({
      id: providerId(seed, index),
      name: `${rng.pick(PROVIDER_BRANDS)} ${type} ${rng.pick(PLACE_NAMES)} ${index + 1}`,
      type,
      region,
      capacity,
      qualityReports,
    });
  }
  return providers;
}

/** Providers grouped by what they offer, to pick a fitting provider for a placement. */
export function providersByOffer(providers: SeedProvider[]): Map<string, SeedProvider[]> {
  const map = new Map<string, SeedProvider[]>();
  for (const provider of providers) {
    for (const { careType, securityLevel } of provider.capacity) {
      const key = `${careType}:${securityLevel}`;
      map.set(key, [...(map.get(key) ?? []), provider]);
    }
  }
  return map;
}

/**
 * The drawn level moved to the nearest level within the bounds at which some provider offers the
 * care type (lower first). Phase bounds hold for all care types of the phase, but no provider
 * offers, say, VERBLIJF at level 3 or AMBULANT at level 2. Consumes no randomness, so ids stay.
 */
function offeredLevel(byOffer: Map<string, SeedProvider[]>, careType: CareType, drawn: number, min: number, max: number): number {
  for (let distance = 0; distance <= max - min; distance++) {
    for (const level of [drawn - distance, drawn + distance]) {
      if (level >= min && level <= max && byOffer.has(`${careType}:${level}`)) return level;
    }
  }
  return drawn;
}

const PHASE_TEMPLATES: Record<LegalTitle, SeedPhase[]> = {
  TBS_DWANGVERPLEGING: [
    { ordinal: 1, name: 'Klinische behandeling', minSecurityLevel: 4, maxSecurityLevel: 5, careTypes: ['KLINISCH'] },
    { ordinal: 2, name: 'Resocialisatie', minSecurityLevel: 2, maxSecurityLevel: 4, careTypes: ['KLINISCH', 'VERBLIJF'] },
    { ordinal: 3, name: 'Transmuraal verlof', minSecurityLevel: 1, maxSecurityLevel: 2, careTypes: ['VERBLIJF', 'AMBULANT'] },
  ],
  TBS_VOORWAARDEN: [
    { ordinal: 1, name: 'Klinische start', minSecurityLevel: 2, maxSecurityLevel: 3, careTypes: ['KLINISCH'] },
    { ordinal: 2, name: 'Begeleid wonen', minSecurityLevel: 1, maxSecurityLevel: 2, careTypes: ['VERBLIJF', 'AMBULANT'] },
  ],
  PIJ: [
    { ordinal: 1, name: 'Behandeling in JJI', minSecurityLevel: 3, maxSecurityLevel: 4, careTypes: ['KLINISCH'] },
    { ordinal: 2, name: 'Scholing en arbeidstoeleiding', minSecurityLevel: 1, maxSecurityLevel: 2, careTypes: ['VERBLIJF', 'AMBULANT'] },
  ],
  VOORWAARDELIJKE_VEROORDELING: [{ ordinal: 1, name: 'Bijzondere voorwaarden', minSecurityLevel: 1, maxSecurityLevel: 2, careTypes: ['VERBLIJF', 'AMBULANT'] }],
  ISD: [
    { ordinal: 1, name: 'Intramuraal', minSecurityLevel: 2, maxSecurityLevel: 3, careTypes: ['KLINISCH'] },
    { ordinal: 2, name: 'Extramuraal', minSecurityLevel: 1, maxSecurityLevel: 1, careTypes: ['VERBLIJF', 'AMBULANT'] },
  ],
  OVERPLAATSING_GEVANGENIS: [{ ordinal: 1, name: 'Overplaatsing naar zorg', minSecurityLevel: 2, maxSecurityLevel: 4, careTypes: ['KLINISCH'] }],
  WFZ_ZORGMACHTIGING: [{ ordinal: 1, name: 'Verplichte zorg', minSecurityLevel: 2, maxSecurityLevel: 3, careTypes: ['KLINISCH', 'VERBLIJF'] }],
};

function dateString(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * Placement histories cycle through every lifecycle outcome so that a seed of a few hundred
 * patients already contains placements in each state.
 */
const PLACEMENT_ENDINGS: PlacementStatus[] = [
  'ADMITTED',
  'ADMITTED',
  'ENDED',
  'REQUESTED',
  'INTAKE',
  'ACCEPTED',
  'DECIDED',
  'DECLINED',
  'TRANSFERRED',
  'WITHDRAWN',
];
const LIFECYCLE: PlacementStatus[] = ['REQUESTED', 'INTAKE', 'ACCEPTED', 'DECIDED', 'ADMITTED'];

/**
 * The seed describes the chain as it stands `today`: nothing is dated after it. Steps drawn for
 * later have not happened yet (the placement stays where it is, a transfer's continuation does
 * not exist yet), and later handovers and CV entries are left out. Done after drawing, so the
 * random streams, and with them every id, do not depend on the date.
 */
function asOf<T extends { steps: SeedPlacementStep[]; status: PlacementStatus }>(placements: T[], cutoff: Date): T[] {
  return placements.flatMap((placement) => {
    const steps = placement.steps.filter((step) => step.at.getTime() <= cutoff.getTime());
    if (steps.length === 0) return [];
    return [{ ...placement, steps, status: steps[steps.length - 1]!.status }];
  });
}

export function generatePatient(
  seed: number,
  index: number,
  providers: SeedProvider[],
  byOffer = providersByOffer(providers),
  today = new Date(),
): SeedPatient {
  const cutoff = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  const rng = new Random(seed, `patient:${index}`);
  const id = rng.uuid();
  const [familyNamePrefix, familyName] = rng.pick(FAMILY_NAMES);
  const birthDate = rng.date(new Date('1960-01-01T00:00:00Z'), new Date('2006-12-31T00:00:00Z'));
  const registeredAt = rng.date(new Date('2019-01-01T00:00:00Z'), new Date('2025-06-30T00:00:00Z'));
  const author = (organisationId: string) => ({ authorId: `user-${organisationId.slice(0, 8)}-${rng.int(1, 40)}`, authorOrganisationId: organisationId });

  const trajectories: SeedTrajectory[] = [];
  const trajectoryCount = rng.chance(0.2) ? 2 : 1;
  let start = registeredAt;
  for (let t = 0; t < trajectoryCount; t++) {
    const isLast = t === trajectoryCount - 1;
    const legalTitle = rng.pick(LEGAL_TITLES);
    const phases = PHASE_TEMPLATES[legalTitle];
    const titleStartsOn = start;
    const titleEndsOn = isLast ? null : addDays(titleStartsOn, rng.int(200, 600));
    const currentPhase = isLast ? rng.int(1, phases.length) : phases.length;
    const phase = phases[currentPhase - 1]!;
    const currentCareType = rng.pick(phase.careTypes);
    const currentSecurityLevel = offeredLevel(
      byOffer,
      currentCareType,
      rng.int(phase.minSecurityLevel, phase.maxSecurityLevel),
      phase.minSecurityLevel,
      phase.maxSecurityLevel,
    );
    const issuer = rng.pick(INDICATION_ISSUERS);

    const indications: SeedIndication[] = [];
    const superseded = rng.chance(0.4);
    if (superseded) {
      const first = phases[0]!;
      indications.push({
        id: rng.uuid(),
        issuer,
        careType: first.careTypes[0]!,
        securityLevel: first.maxSecurityLevel,
        intensity: rng.pick(CARE_INTENSITIES),
        issuedOn: titleStartsOn,
        validFrom: titleStartsOn,
        validUntil: addDays(titleStartsOn, 365),
        status: 'SUPERSEDED',
      });
    }
    const issuedOn = addDays(titleStartsOn, superseded ? rng.int(60, 180) : 0);
    indications.push({
      id: rng.uuid(),
      issuer,
      careType: currentCareType,
      securityLevel: currentSecurityLevel,
      intensity: rng.pick(CARE_INTENSITIES),
      issuedOn,
      validFrom: issuedOn,
      validUntil: addDays(issuedOn, isLast ? 730 : 365),
      status: isLast ? 'ISSUED' : 'EXPIRED',
    });

    const trajectoryIndication = rng.chance(0.85)
      ? { id: rng.uuid(), issuedOn: titleStartsOn, issuer, phases: phases.map((p) => ({ ...p, careTypes: [...p.careTypes] })) }
      : null;

    // Placements: a short history of earlier placements and one current one.
    const placements: SeedPlacement[] = [];
    const placementCount = rng.int(1, 3);
    let requestDay = addDays(titleStartsOn, rng.int(1, 20));
    for (let p = 0; p < placementCount; p++) {
      const current = p === placementCount - 1;
      const ending: PlacementStatus = !isLast
        ? 'ENDED'
        : current
          ? PLACEMENT_ENDINGS[(index + t) % PLACEMENT_ENDINGS.length]!
          : rng.pick(['ENDED', 'DECLINED', 'WITHDRAWN'] as const);
      const careType = current ? currentCareType : rng.pick(phases[0]!.careTypes);
      const securityLevel = current
        ? currentSecurityLevel
        : offeredLevel(
            byOffer,
            careType,
            rng.int(phases[0]!.minSecurityLevel, phases[0]!.maxSecurityLevel),
            phases[0]!.minSecurityLevel,
            phases[0]!.maxSecurityLevel,
          );
      const candidates = byOffer.get(`${careType}:${securityLevel}`) ?? providers;
      const provider = rng.pick(candidates);
      const steps: SeedPlacementStep[] = [];
      let at = requestDay;
      const target = ending === 'DECLINED' ? 'ACCEPTED' : ending === 'WITHDRAWN' ? LIFECYCLE[rng.int(0, 2)]! : 'ADMITTED';
      for (const status of LIFECYCLE) {
        if (status === 'ACCEPTED' && ending === 'DECLINED') {
          steps.push({ status: 'DECLINED', at, reason: rng.pick(DECLINE_REASONS) });
          break;
        }
        steps.push({ status, at });
        if (status === ending || status === target) break;
        at = addDays(at, rng.int(3, 45));
      }
      if (ending === 'WITHDRAWN') steps.push({ status: 'WITHDRAWN', at: addDays(at, rng.int(1, 20)), reason: 'Verzoek ingetrokken door plaatser' });
      if (ending === 'ENDED' || ending === 'TRANSFERRED') steps.push({ status: ending, at: addDays(at, rng.int(60, 400)) });
      const placement: SeedPlacement = { id: rng.uuid(), providerId: provider.id, careType, securityLevel, status: steps[steps.length - 1]!.status, steps };
      placements.push(placement);
      if (ending === 'TRANSFERRED') {
        // The transfer continues the stay at another provider with the same care type and level.
        const transferredOn = steps[steps.length - 1]!.at;
        const target = rng.pick(candidates.filter((c) => c.id !== provider.id).length ? candidates.filter((c) => c.id !== provider.id) : candidates);
        placements.push({
          id: rng.uuid(),
          providerId: target.id,
          careType,
          securityLevel,
          status: 'ADMITTED',
          steps: [{ status: 'ADMITTED', at: transferredOn }],
          transferredFromId: placement.id,
        });
      }
      requestDay = addDays(steps[steps.length - 1]!.at, rng.int(1, 30));
    }

    // A handover accompanies every admission; completeness varies.
    const handovers: SeedHandover[] = [];
    let previousProvider: string | null = null;
    for (const placement of placements) {
      const admitted = placement.steps.find((s) => s.status === 'ADMITTED');
      if (!admitted) continue;
      handovers.push({
        id: rng.uuid(),
        fromProviderId: previousProvider,
        toProviderId: placement.providerId,
        handedOverOn: admitted.at,
        items: rng.subset(HANDOVER_ITEMS, 0.55 + rng.next() * 0.45),
      });
      previousProvider = placement.providerId;
    }

    trajectories.push({
      id: rng.uuid(),
      legalTitle,
      titleStartsOn,
      titleEndsOn,
      probationOrganisation: rng.chance(0.7) ? rng.pick(PROBATION_ORGANISATIONS) : null,
      status: isLast ? 'ACTIVE' : 'CLOSED',
      currentPhase,
      currentCareType,
      currentSecurityLevel,
      trajectoryIndication,
      indications,
      placements: asOf(placements, cutoff),
      handovers: handovers.filter((handover) => handover.handedOverOn.getTime() <= cutoff.getTime()),
    });
    start = addDays(titleEndsOn ?? titleStartsOn, rng.int(30, 200));
  }

  // Forensic CV entries, contributed by the providers that had the patient and the NIFP.
  const cvEntries: SeedCvEntry[] = [];
  const contributors = trajectories.flatMap((t) => t.placements.map((p) => p.providerId));
  const contributor = () => author(contributors.length ? rng.pick(contributors) : 'nifp');
  const entry = <K extends SeedCvEntry['kind']>(kind: K, occurredOn: Date, details: Extract<SeedCvEntry, { kind: K }>['details'], who = contributor()) => {
    const entryId = rng.uuid();
    cvEntries.push({ id: rng.uuid(), entryId, version: 1, kind, occurredOn, recordedAt: addDays(occurredOn, rng.int(0, 10)), ...who, details } as SeedCvEntry);
  };
  const firstStart = trajectories[0]!.titleStartsOn;
  for (let i = 0, n = rng.int(1, 2); i < n; i++) {
    const [offenceType, article] = rng.pick(OFFENCES);
    entry(
      'OFFENCE',
      addDays(firstStart, -rng.int(60, 900)),
      {
        offenceType,
        article,
        committedOn: dateString(addDays(firstStart, -rng.int(60, 900))),
        description: `Veroordeeld voor ${offenceType.toLowerCase().replaceAll('_', ' ')}.`,
      },
      author('nifp'),
    );
  }
  for (let i = 0, n = rng.int(1, 2); i < n; i++) {
    const [classification, description] = rng.pick(DIAGNOSES);
    entry('DIAGNOSIS', addDays(firstStart, rng.int(0, 120)), { classification, description });
  }
  for (let i = 0, n = rng.int(1, 4); i < n; i++) {
    entry('RISK_ASSESSMENT', addDays(firstStart, rng.int(10, 900)), {
      instrument: rng.pick(RISK_INSTRUMENTS),
      outcomeLevel: rng.pick(RISK_LEVELS),
      riskFactors: rng.subset(RISK_FACTORS, 0.4),
      protectiveFactors: rng.subset(PROTECTIVE_FACTORS, 0.4),
    });
  }
  for (let i = 0, n = rng.int(0, 4); i < n; i++) {
    const incidentType = rng.pick(INCIDENTS);
    entry('INCIDENT', addDays(firstStart, rng.int(10, 900)), {
      incidentType,
      severity: rng.pick(['LICHT', 'MATIG', 'ERNSTIG']),
      description: 'Incident vastgelegd volgens afdelingsprotocol.',
    });
  }
  for (let i = 0, n = rng.int(0, 2); i < n; i++) {
    const from = addDays(firstStart, rng.int(100, 900));
    entry('LEAVE', from, {
      leaveType: rng.pick(['BEGELEID', 'ONBEGELEID', 'TRANSMURAAL', 'PROEFVERLOF']),
      endsOn: dateString(addDays(from, rng.int(1, 30))),
      outcome: rng.pick(['VOLTOOID', 'AFGEBROKEN', 'INGETROKKEN']),
    });
  }
  for (let i = 0, n = rng.int(1, 2); i < n; i++) {
    const from = addDays(firstStart, rng.int(0, 300));
    entry('TREATMENT', from, {
      treatmentType: rng.pick(TREATMENTS),
      endsOn: rng.chance(0.5) ? dateString(addDays(from, rng.int(60, 400))) : null,
      summary: 'Behandeling volgens behandelplan.',
    });
  }
  // Some entries were corrected: the correction is a new version, the original stays readable.
  if (rng.chance(0.2) && cvEntries.length > 0) {
    const original = rng.pick(cvEntries);
    cvEntries.push({ ...original, id: rng.uuid(), version: 2, recordedAt: addDays(original.recordedAt, rng.int(1, 60)) } as SeedCvEntry);
  }

  const givenName = rng.pick(GIVEN_NAMES);
  // Entries (and corrections) of events after today have not been written yet; none is recorded later than today.
  const dropped = new Set(cvEntries.filter((e) => e.version === 1 && e.occurredOn.getTime() > cutoff.getTime()).map((e) => e.entryId));
  const recorded = cvEntries
    .filter((e) => !dropped.has(e.entryId) && (e.version === 1 || e.recordedAt.getTime() <= cutoff.getTime()))
    .map((e) => (e.recordedAt.getTime() > cutoff.getTime() ? { ...e, recordedAt: cutoff } : e));
  return {
    index,
    id,
    bsn: syntheticBsn(index),
    givenName,
    familyNamePrefix,
    familyName,
    birthDate,
    registeredAt,
    trajectories,
    cvEntries: recorded,
  };
}

/** Iterates patients 0..count-1 lazily, so a 50,000-patient seed never sits in memory at once. */
export function* generatePatients(seed: number, count: number, providers: SeedProvider[], today = new Date()): Generator<SeedPatient> {
  const byOffer = providersByOffer(providers);
  for (let index = 0; index < count; index++) yield generatePatient(seed, index, providers, byOffer, today);
}
