import { randomUUID } from 'node:crypto';
import {
  connectionFromList,
  DateScalar,
  DateTimeScalar,
  domainError,
  isUniqueViolation,
  notFound,
  requireActor,
  unauthorized,
  type Actor,
  type PageArgs,
} from '@ketengraph/service-kit';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from './context.js';
import {
  CvDetailsError,
  fromDateString,
  nextVersionFor,
  parseDetails,
  validateCommon,
  validateDiagnosis,
  validateIncident,
  validateLeave,
  validateOffence,
  validateRiskAssessment,
  validateTreatment,
  type CvEntryKind,
  type DetailsByKind,
  type ValidCommon,
} from './domain/entries.js';
import type { CvEntry } from './generated/prisma/client.js';
import type { Resolvers } from './generated/resolvers.js';
import { currentOf } from './loaders.js';
import { connectEpd, disconnectEpd, epdConnectionOf } from './epd/connections.js';
import { importSummaries } from './epd/store.js';
import { CV_ENTRY_KINDS } from './domain/entries.js';
import { cvContentKinds, requireRelay } from './content-kinds.js';

const byId = (row: { id: string }) => row.id;

const TYPENAMES = {
  OFFENCE: 'OffenceEntry',
  DIAGNOSIS: 'DiagnosisEntry',
  RISK_ASSESSMENT: 'RiskAssessmentEntry',
  INCIDENT: 'IncidentEntry',
  LEAVE: 'LeaveEntry',
  TREATMENT: 'TreatmentEntry',
  EARLY_WARNING_SIGN: 'EarlyWarningSignEntry',
} as const satisfies Record<CvEntryKind, string>;

const parsed = new WeakMap<CvEntry, unknown>();

/** The row's details, checked against its kind once per row. */
function details<K extends CvEntryKind>(row: CvEntry, kind: K): DetailsByKind[K] {
  if (row.kind !== kind) throw new CvDetailsError(`A ${row.kind} entry was resolved as ${kind}.`);
  let value = parsed.get(row) as DetailsByKind[K] | undefined;
  if (!value) {
    value = parseDetails(kind, row.details);
    parsed.set(row, value);
  }
  return value;
}

/** Fields every entry type resolves the same way; the rest map straight from the row. */
const entryFields = {
  author: (row: CvEntry) => ({ userId: row.authorId, organisationId: row.authorOrganisationId }),
  isCurrent: async (row: CvEntry, _: unknown, { loaders }: Context) => {
    const versions = await loaders.versionsByEntry.load(row.entryId);
    return versions[versions.length - 1]?.version === row.version;
  },
  supersedes: async (row: CvEntry, _: unknown, { loaders }: Context) =>
    row.supersedesId ? ((await loaders.versionsByEntry.load(row.entryId)).find((version) => version.id === row.supersedesId) ?? null) : null,
  versions: (row: CvEntry, _: unknown, { loaders }: Context) => loaders.versionsByEntry.load(row.entryId),
  // The row itself carries its provenance; CvEntrySource resolves from it.
  source: (row: CvEntry) => (row.sourceProviderId ? row : null),
};

const pathOf = (info: GraphQLResolveInfo) => {
  const path: (string | number)[] = [];
  for (let at: GraphQLResolveInfo['path'] | undefined = info.path; at; at = at.prev) path.unshift(at.key);
  return path;
};

/** What providers' EPDs hold of these kinds is brought up to date (within the read deadline) before the CV is read. */
function refreshed(
  cv: { patientId: string },
  kinds: Iterable<CvEntryKind>,
  context: Context,
  info: GraphQLResolveInfo,
  args: Record<string, unknown> = {},
): Promise<void> {
  return context.epd.refresh(cv.patientId, kinds, { type: info.parentType.name, field: info.fieldName, args }, pathOf(info));
}

function kindConnection(kind: CvEntryKind) {
  return async (cv: { patientId: string }, args: PageArgs, context: Context, info: GraphQLResolveInfo) => {
    await refreshed(cv, [kind], context, info);
    return connectionFromList(
      currentOf(await context.loaders.entriesByPatient.load(cv.patientId)).filter((row) => row.kind === kind),
      args,
      byId,
      context.cursors,
    );
  };
}

/**
 * Appends one row: a new entry (version 1), or with `corrects` the next version of that entry.
 * Concurrent corrections of one version both pass the check only on PostgreSQL's read committed;
 * UNIQUE(entryId, version) then refuses the second insert, reported the same way as the check.
 */
async function record<K extends CvEntryKind>(
  context: Context,
  coordinate: string,
  author: Actor,
  kind: K,
  common: ValidCommon,
  entryDetails: DetailsByKind[K],
): Promise<CvEntry> {
  const { prisma, writes, access, peerFacts } = context;
  // The patient register is indicatiestelling's (asked first: the step's record names only a patient that exists);
  // the relationships live in plaatsing (own patients) and indicatiestelling (assigned probation).
  if (!(await peerFacts.patientExists(common.patientId))) throw notFound('Patient', common.patientId);
  await writes.authorize(coordinate, common.patientId, {
    'own-patients': () => access.isRelated('own-patients', common.patientId),
    assigned: () => access.isRelated('own-supervisees', common.patientId),
  });
  try {
    return await prisma.$transaction(async (tx) => {
      let entryId: string = randomUUID();
      let version = 1;
      let supersedesId: string | null = null;
      if (common.corrects) {
        const target = await tx.cvEntry.findUnique({ where: { id: common.corrects } });
        if (!target) throw notFound('CvEntry', common.corrects);
        const latest = await tx.cvEntry.findFirst({ where: { entryId: target.entryId }, orderBy: { version: 'desc' }, select: { version: true } });
        version = nextVersionFor(target, { kind, patientId: common.patientId }, latest?.version ?? target.version);
        entryId = target.entryId;
        supersedesId = target.id;
      }
      return tx.cvEntry.create({
        data: {
          id: randomUUID(),
          patientId: common.patientId,
          entryId,
          version,
          kind,
          occurredOn: common.occurredOn,
          recordedAt: new Date(),
          authorId: author.userId,
          authorOrganisationId: author.organisationId,
          details: entryDetails,
          supersedesId,
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw domainError('INVALID_TRANSITION', 'This version of the entry was corrected by someone else at the same time; correct the current version.');
    }
    throw error;
  }
}

export const resolvers: Resolvers = {
  Date: DateScalar,
  DateTime: DateTimeScalar,

  Patient: {
    // The patient register is indicatiestelling's; a CV exists (possibly empty) for any patient id.
    __resolveReference: (reference) => ({ id: reference.id }),
    forensicCv: (patient) => ({ patientId: patient.id }),
  },

  ForensicCv: {
    patientId: (cv) => cv.patientId,
    entries: async (cv, args, context, info) => {
      await refreshed(cv, args.kinds?.length ? args.kinds : CV_ENTRY_KINDS, context, info, args);
      const all = await context.loaders.entriesByPatient.load(cv.patientId);
      const rows = args.includeSuperseded ? all : currentOf(all);
      const kinds = args.kinds?.length ? new Set(args.kinds) : null;
      return connectionFromList(kinds ? rows.filter((row) => kinds.has(row.kind)) : rows, args, byId, context.cursors);
    },
    offences: kindConnection('OFFENCE'),
    diagnoses: kindConnection('DIAGNOSIS'),
    riskAssessments: kindConnection('RISK_ASSESSMENT'),
    incidents: kindConnection('INCIDENT'),
    leaves: kindConnection('LEAVE'),
    treatments: kindConnection('TREATMENT'),
    earlyWarningSigns: kindConnection('EARLY_WARNING_SIGN'),
    epdImports: async (cv, _, context, info) => {
      await refreshed(cv, CV_ENTRY_KINDS, context, info);
      return importSummaries(context.prisma, cv.patientId);
    },
    lastUpdatedAt: async (cv, _, context, info) => {
      await refreshed(cv, CV_ENTRY_KINDS, context, info);
      const rows = await context.loaders.entriesByPatient.load(cv.patientId);
      return rows.length ? new Date(Math.max(...rows.map((row) => row.recordedAt.getTime()))) : null;
    },
  },

  CvEntry: {
    __resolveType: (row) => TYPENAMES[row.kind],
  },

  CvEntrySource: {
    provider: (row) => ({ id: row.sourceProviderId! }),
    resourceType: (row) => row.sourceResourceType!,
    resourceId: (row) => row.sourceResourceId!,
    versionId: (row) => row.sourceVersionId,
    lastUpdated: (row) => row.sourceLastUpdated,
  },

  EpdImport: {
    provider: (summary) => ({ id: summary.providerId }),
  },

  Provider: {
    __resolveReference: (reference) => ({ id: reference.id }),
    // Only the provider itself sees how its EPD is connected.
    epdConnection: (provider, _, { principal, epdSync }) => {
      if (principal.role !== 'zorgaanbieder' || principal.organisationId !== provider.id) throw unauthorized('Provider.epdConnection');
      return epdConnectionOf(epdSync, provider.id);
    },
  },

  EarlyWarningSignEntry: {
    ...entryFields,
    signal: (row) => details(row, 'EARLY_WARNING_SIGN').signal,
    signalCode: (row) => details(row, 'EARLY_WARNING_SIGN').signalCode,
    active: (row) => details(row, 'EARLY_WARNING_SIGN').active,
    endsOn: (row) => {
      const endsOn = details(row, 'EARLY_WARNING_SIGN').endsOn;
      return endsOn ? fromDateString(endsOn) : null;
    },
  },

  OffenceEntry: {
    ...entryFields,
    offenceType: (row) => details(row, 'OFFENCE').offenceType,
    article: (row) => details(row, 'OFFENCE').article,
    committedOn: (row) => fromDateString(details(row, 'OFFENCE').committedOn),
    description: (row) => details(row, 'OFFENCE').description,
  },

  DiagnosisEntry: {
    ...entryFields,
    classification: (row) => details(row, 'DIAGNOSIS').classification,
    description: (row) => details(row, 'DIAGNOSIS').description,
  },

  RiskAssessmentEntry: {
    ...entryFields,
    instrument: (row) => details(row, 'RISK_ASSESSMENT').instrument,
    outcomeLevel: (row) => details(row, 'RISK_ASSESSMENT').outcomeLevel,
    riskFactors: (row) => details(row, 'RISK_ASSESSMENT').riskFactors,
    protectiveFactors: (row) => details(row, 'RISK_ASSESSMENT').protectiveFactors,
  },

  IncidentEntry: {
    ...entryFields,
    incidentType: (row) => details(row, 'INCIDENT').incidentType,
    severity: (row) => details(row, 'INCIDENT').severity,
    description: (row) => details(row, 'INCIDENT').description,
  },

  LeaveEntry: {
    ...entryFields,
    leaveType: (row) => details(row, 'LEAVE').leaveType,
    startsOn: (row) => row.occurredOn,
    endsOn: (row) => fromDateString(details(row, 'LEAVE').endsOn),
    outcome: (row) => details(row, 'LEAVE').outcome,
  },

  TreatmentEntry: {
    ...entryFields,
    treatmentType: (row) => details(row, 'TREATMENT').treatmentType,
    startsOn: (row) => row.occurredOn,
    endsOn: (row) => {
      const endsOn = details(row, 'TREATMENT').endsOn;
      return endsOn ? fromDateString(endsOn) : null;
    },
    summary: (row) => details(row, 'TREATMENT').summary,
  },

  Query: {
    cvContentKinds: (_, { patientIds, asOf }, { prisma, principal }) => {
      requireRelay(principal.scopes, 'Query.cvContentKinds');
      return cvContentKinds(prisma, patientIds, asOf ?? new Date());
    },
  },

  // The actor is required before the input is looked at, so an anonymous call learns nothing.
  Mutation: {
    connectEpd: async (_, { input }, { prisma, actor, principal, epdSync, writes }) => {
      requireActor(actor);
      await writes.authorize('Mutation.connectEpd', null, { 'own-organisation': input.providerId === principal.organisationId });
      return connectEpd(prisma, epdSync, principal, input);
    },
    disconnectEpd: async (_, { providerId }, { prisma, actor, principal, epdSync, writes }) => {
      requireActor(actor);
      await writes.authorize('Mutation.disconnectEpd', null, { 'own-organisation': providerId === principal.organisationId });
      return disconnectEpd(prisma, epdSync, providerId);
    },
    recordOffence: (_, { input }, context) => {
      const { actor } = context;
      const author = requireActor(actor);
      const today = new Date();
      return record(context, 'Mutation.recordOffence', author, 'OFFENCE', validateCommon(input, today), validateOffence(input, today));
    },
    recordDiagnosis: (_, { input }, context) => {
      const { actor } = context;
      const author = requireActor(actor);
      return record(context, 'Mutation.recordDiagnosis', author, 'DIAGNOSIS', validateCommon(input, new Date()), validateDiagnosis(input));
    },
    recordRiskAssessment: (_, { input }, context) => {
      const { actor } = context;
      const author = requireActor(actor);
      return record(context, 'Mutation.recordRiskAssessment', author, 'RISK_ASSESSMENT', validateCommon(input, new Date()), validateRiskAssessment(input));
    },
    recordIncident: (_, { input }, context) => {
      const { actor } = context;
      const author = requireActor(actor);
      return record(context, 'Mutation.recordIncident', author, 'INCIDENT', validateCommon(input, new Date()), validateIncident(input));
    },
    recordLeave: (_, { input }, context) => {
      const { actor } = context;
      const author = requireActor(actor);
      const today = new Date();
      return record(context, 'Mutation.recordLeave', author, 'LEAVE', validateCommon(input, today), validateLeave(input, today));
    },
    recordTreatment: (_, { input }, context) => {
      const { actor } = context;
      const author = requireActor(actor);
      const today = new Date();
      return record(context, 'Mutation.recordTreatment', author, 'TREATMENT', validateCommon(input, today), validateTreatment(input, today));
    },
  },
};
