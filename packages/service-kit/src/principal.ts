import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthenticationError } from './authentication-error.js';
import { repositoryRoot } from './paths.js';

/**
 * Who a request runs for, as established by a verified token: the same shape at the gateway
 * (from the caller's token) and in every subgraph (from the gateway's token).
 */
export interface Principal {
  /** `sub`: the person (or system) at the identity provider. */
  subject: string;
  /** `org`: the organisation acted for; for a care provider its provider id in the graph. */
  organisationId: string;
  /** `role`: a key of the access policy's `roles`. */
  role: string;
  /** `scope`: space-separated in the token. */
  scopes: readonly string[];
  /** `purpose`: purpose of use, a key of the access policy's `purposes`; null when not given. */
  purpose: string | null;
}

/** What a role may see of a data category (see the policy's `$comment`). */
export type Grant = 'all' | 'own-patients' | 'own-supervisees' | 'counts';

const GRANTS: ReadonlySet<string> = new Set<Grant>(['all', 'own-patients', 'own-supervisees', 'counts']);

/** `schema/access-policy.json`, checked for internal consistency when read. */
export interface AccessPolicy {
  handoverPeriodDays: number;
  /** Data category → description. */
  categories: Record<string, string>;
  /** The categories that are patient data (reading them needs a purpose). */
  patientCategories: string[];
  /** Purpose of use → description. */
  purposes: Record<string, string>;
  /** Role → grant per category; a missing category means nothing. */
  roles: Record<string, Partial<Record<string, Grant>>>;
  /** Role → the purposes of use it may read patient data for. */
  rolePurposes: Record<string, string[]>;
  /** Scope → description. */
  scopes: Record<string, string>;
  /** Subgraph → the scope every one of its mutations requires. */
  mutationScopes: Record<string, string>;
  /** Role → the scopes an identity provider may grant it. */
  roleScopes: Record<string, string[]>;
  /**
   * `Type.field` (or `Type`: every field of the type and every field returning it) → the data
   * categories it carries; all of them must be granted.
   */
  fields: Record<string, string[]>;
  /**
   * Types whose objects belong to one patient → the path to that patient's id on the object
   * (`id`, `patientId`, `patient.id`). Their fields must be classified in `fields` (ids and
   * references to other patient types aside); an unclassified one is withheld from everyone.
   */
  patientTypes: Record<string, string>;
  /** Per relationship grant: the subgraph that holds it and the internal query field on which it answers the others. */
  relationshipHolders: Record<'own-patients' | 'own-supervisees', { subgraph: string; field: string }>;
  /** Root query fields (`Query.field`) the access log records as `search` instead of `read`. */
  readActions: Record<string, 'search'>;
  /**
   * Fields whose result spans categories, judged by what is asked: `Type.field` → argument → value
   * → category. With the argument given (non-empty), the field needs the categories of the values
   * asked for; omitted or empty, the categories in `fields` (all of them).
   */
  argumentCategories: Record<string, Record<string, Record<string, string>>>;
  /** Relationship name → what it means; the vocabulary of `writeRules`. */
  writeRelationships: Record<string, string>;
  /** Which organisation places a patient, by care type (and legal title). */
  placingOrganisations: PlacingOrganisation[];
  /** `Mutation.field` → who may take that step, for which patient (see write-access.ts). */
  writeRules: Record<string, WriteRule>;
}

/** One way to be the placing organisation of a placement. */
export interface PlacingOrganisation {
  careTypes: string[];
  /** When set, only for trajectories under these legal titles. */
  legalTitles?: string[];
  role: string;
  /** A fixed organisation id, or `assigned`: the probation organisation assigned to the trajectory. Unset: any organisation of the role. */
  organisation?: string;
  why: string;
}

export interface WriteAllowance {
  role: string;
  /** A key of `writeRelationships`. */
  relationship: string;
  /** The purpose of use the step is taken for (one of the role's purposes). */
  purpose: string;
  why: string;
}

export interface WriteRule {
  /** The audit action the step is recorded as. */
  action: 'create' | 'update';
  /** Data categories the step writes. */
  categories: string[];
  note?: string;
  allow: WriteAllowance[];
}

export const ACCESS_POLICY_FILE = join(repositoryRoot, 'schema', 'access-policy.json');

const policies = new Map<string, AccessPolicy>();

/** Reads and checks the access policy once per file; a policy that does not hold together is refused at start. */
export function loadAccessPolicy(file: string = ACCESS_POLICY_FILE): AccessPolicy {
  const cached = policies.get(file);
  if (cached) return cached;
  const policy = checkPolicy(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
  policies.set(file, policy);
  return policy;
}

function checkPolicy(raw: unknown, file: string): AccessPolicy {
  const fail = (what: string): never => {
    throw new Error(`Access policy ${file}: ${what}`);
  };
  const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  const strings = (value: unknown, name: string): Record<string, string> => {
    if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) return fail(`${name} must map names to descriptions.`);
    return value as Record<string, string>;
  };
  if (!isRecord(raw)) return fail('not a JSON object.');
  const categories = strings(raw.categories, 'categories');
  const purposes = strings(raw.purposes, 'purposes');
  if (typeof raw.handoverPeriodDays !== 'number' || !Number.isInteger(raw.handoverPeriodDays) || raw.handoverPeriodDays < 0)
    fail('handoverPeriodDays must be a non-negative integer.');
  const patientCategories = raw.patientCategories;
  if (!Array.isArray(patientCategories) || !patientCategories.every((c) => typeof c === 'string' && c in categories))
    fail('patientCategories must list known categories.');
  if (!isRecord(raw.roles) || Object.keys(raw.roles).length === 0) return fail('roles must be a non-empty object.');
  for (const [role, grants] of Object.entries(raw.roles)) {
    if (!isRecord(grants)) return fail(`role ${role} must map categories to grants.`);
    for (const [category, grant] of Object.entries(grants)) {
      if (!(category in categories)) fail(`role ${role} names unknown category ${category}.`);
      if (typeof grant !== 'string' || !GRANTS.has(grant)) fail(`role ${role} has unknown grant for ${category}.`);
    }
  }
  if (!isRecord(raw.fields)) return fail('fields must map coordinates to categories.');
  const fields: Record<string, string[]> = {};
  for (const [coordinate, value] of Object.entries(raw.fields)) {
    const list = typeof value === 'string' ? [value] : value;
    if (!/^[A-Z]\w*(\.\w+)?$/.test(coordinate)) fail(`${coordinate} is not a Type or Type.field coordinate.`);
    if (!Array.isArray(list) || list.length === 0 || !list.every((c) => typeof c === 'string' && c in categories))
      fail(`field ${coordinate} must name known categories.`);
    fields[coordinate] = list as string[];
  }
  const argumentCategories: AccessPolicy['argumentCategories'] = {};
  for (const [coordinate, byArgument] of Object.entries(raw.argumentCategories ?? {})) {
    if (!(coordinate in fields) || !isRecord(byArgument)) fail(`argumentCategories names ${coordinate}, which fields does not.`);
    argumentCategories[coordinate] = {};
    for (const [argument, values] of Object.entries(byArgument as Record<string, unknown>)) {
      argumentCategories[coordinate]![argument] = strings(values, `argumentCategories of ${coordinate}.${argument}`);
      for (const category of Object.values(argumentCategories[coordinate]![argument]!)) {
        if (!fields[coordinate]!.includes(category)) fail(`argumentCategories of ${coordinate} names ${category}, which is not among its categories.`);
      }
    }
  }
  const patientTypes = strings(raw.patientTypes, 'patientTypes');
  for (const [type, path] of Object.entries(patientTypes)) {
    if (!/^[A-Z]\w*$/.test(type)) fail(`patientTypes: ${type} is not a type name.`);
    if (!/^\w+(\.id)?$/.test(path)) fail(`patientTypes of ${type}: the patient's id is a field (patientId) or a field's id (patient.id), not ${path}.`);
  }
  if (!isRecord(raw.relationshipHolders)) return fail('relationshipHolders must map own-patients and own-supervisees to their subgraph and field.');
  for (const kind of ['own-patients', 'own-supervisees']) {
    const holder = raw.relationshipHolders[kind];
    if (!isRecord(holder) || typeof holder.subgraph !== 'string' || typeof holder.field !== 'string' || !/^\w+$/.test(holder.field))
      fail(`relationshipHolders.${kind} must name a subgraph and a query field.`);
  }
  const readActions = strings(raw.readActions ?? {}, 'readActions');
  for (const [coordinate, action] of Object.entries(readActions)) {
    if (!/^Query\.\w+$/.test(coordinate) || action !== 'search') fail(`readActions: ${coordinate} must be a Query.field recorded as search.`);
  }
  const scopes = strings(raw.scopes, 'scopes');
  const mutationScopes = strings(raw.mutationScopes, 'mutationScopes');
  for (const [subgraph, scope] of Object.entries(mutationScopes)) if (!(scope in scopes)) fail(`mutationScopes of ${subgraph} names unknown scope ${scope}.`);
  if (!isRecord(raw.roleScopes)) return fail('roleScopes must map roles to scopes.');
  for (const [role, list] of Object.entries(raw.roleScopes)) {
    if (!Object.hasOwn(raw.roles, role)) fail(`roleScopes names unknown role ${role}.`);
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x in scopes)) fail(`roleScopes of ${role} must list known scopes.`);
  }
  if (!isRecord(raw.rolePurposes)) return fail('rolePurposes must map roles to purposes.');
  for (const [role, list] of Object.entries(raw.rolePurposes)) {
    if (!Object.hasOwn(raw.roles, role)) fail(`rolePurposes names unknown role ${role}.`);
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p in purposes)) fail(`rolePurposes of ${role} must list known purposes.`);
  }
  const writeRelationships = strings(raw.writeRelationships, 'writeRelationships');
  if (!Array.isArray(raw.placingOrganisations)) return fail('placingOrganisations must be a list.');
  for (const entry of raw.placingOrganisations as unknown[]) {
    if (
      !isRecord(entry) ||
      !Array.isArray(entry.careTypes) ||
      typeof entry.role !== 'string' ||
      !Object.hasOwn(raw.roles, entry.role) ||
      typeof entry.why !== 'string'
    )
      fail('each placingOrganisations entry needs careTypes, a known role and why.');
  }
  if (!isRecord(raw.writeRules)) return fail('writeRules must map Mutation.field coordinates to rules.');
  for (const [coordinate, rule] of Object.entries(raw.writeRules)) {
    if (!/^Mutation\.\w+$/.test(coordinate)) fail(`writeRules: ${coordinate} is not a Mutation.field coordinate.`);
    if (!isRecord(rule) || (rule.action !== 'create' && rule.action !== 'update')) return fail(`writeRules ${coordinate}: action must be create or update.`);
    if (!Array.isArray(rule.categories) || !rule.categories.every((c) => typeof c === 'string' && c in categories))
      fail(`writeRules ${coordinate}: categories must be known categories.`);
    if (!Array.isArray(rule.allow)) return fail(`writeRules ${coordinate}: allow must be a list.`);
    for (const allowance of rule.allow as unknown[]) {
      if (!isRecord(allowance)) return fail(`writeRules ${coordinate}: each allowance must be an object.`);
      const { role, relationship, purpose, why } = allowance;
      if (typeof role !== 'string' || !Object.hasOwn(raw.roles, role)) fail(`writeRules ${coordinate}: unknown role ${String(role)}.`);
      if (typeof relationship !== 'string' || !(relationship in writeRelationships))
        fail(`writeRules ${coordinate}: unknown relationship ${String(relationship)}.`);
      const rolePurposes = isRecord(raw.rolePurposes) ? (raw.rolePurposes[role as string] as unknown[] | undefined) : undefined;
      if (typeof purpose !== 'string' || !rolePurposes?.includes(purpose))
        fail(`writeRules ${coordinate}: purpose ${String(purpose)} is not one of ${String(role)}'s purposes.`);
      if (typeof why !== 'string' || !why) fail(`writeRules ${coordinate}: every allowance says why.`);
    }
  }
  return {
    writeRelationships,
    placingOrganisations: raw.placingOrganisations as PlacingOrganisation[],
    writeRules: raw.writeRules as Record<string, WriteRule>,
    handoverPeriodDays: raw.handoverPeriodDays as number,
    categories,
    patientCategories: patientCategories as string[],
    purposes,
    roles: raw.roles as AccessPolicy['roles'],
    rolePurposes: raw.rolePurposes as Record<string, string[]>,
    scopes,
    mutationScopes,
    roleScopes: raw.roleScopes as Record<string, string[]>,
    fields,
    patientTypes,
    relationshipHolders: raw.relationshipHolders as AccessPolicy['relationshipHolders'],
    readActions: readActions as Record<string, 'search'>,
    argumentCategories,
  };
}

/** The claims a principal travels as, in caller tokens and in the gateway's tokens alike. */
export interface PrincipalClaims {
  sub: string;
  org: string;
  role: string;
  scope?: string;
  purpose?: string;
}

/**
 * Scopes the policy grants to no role: only the gateway's own system principals (the event feed
 * reader, the handover relay) hold them.
 */
export function internalScopes(policy: AccessPolicy): Set<string> {
  const granted = new Set(Object.values(policy.roleScopes).flat());
  return new Set(Object.keys(policy.scopes).filter((scope) => !granted.has(scope)));
}

export function principalClaims(principal: Principal): PrincipalClaims {
  return {
    sub: principal.subject,
    org: principal.organisationId,
    role: principal.role,
    ...(principal.scopes.length ? { scope: principal.scopes.join(' ') } : {}),
    ...(principal.purpose ? { purpose: principal.purpose } : {}),
  };
}

/**
 * The principal of a verified token's claims. Claims that do not name a known role or purpose
 * make the token unusable (401), the same as a bad signature: there is no one to act for.
 */
export function principalFromClaims(claims: Record<string, unknown>, policy: AccessPolicy): Principal {
  const text = (value: unknown) => typeof value === 'string' && value.length > 0 && value.length <= 256;
  const { sub, org, role, scope, purpose } = claims;
  if (!text(sub) || !text(org) || !text(role) || !Object.hasOwn(policy.roles, role as string)) throw new AuthenticationError('invalid-claims');
  if (scope !== undefined && typeof scope !== 'string') throw new AuthenticationError('invalid-claims');
  if (purpose !== undefined && (typeof purpose !== 'string' || !Object.hasOwn(policy.purposes, purpose))) throw new AuthenticationError('invalid-claims');
  return {
    subject: sub as string,
    organisationId: org as string,
    role: role as string,
    scopes: Object.freeze(typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []),
    purpose: (purpose as string | undefined) ?? null,
  };
}
