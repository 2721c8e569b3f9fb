/**
 * What a schema says about each field — the data categories of its `@policy` directives, in a
 * subgraph's SDL or carried into the supergraph by composition — and what a principal's role is
 * granted of them per the access policy. The gateway and every subgraph decide with this one
 * module, so they cannot disagree.
 */
import { Kind, parse, type ConstDirectiveNode, type TypeNode } from 'graphql';
import type { AccessPolicy, Grant, Principal } from './principal.js';

/** OR of AND-lists of categories, as `@policy(policies: [[...]])` writes them. */
export type PolicyRequirement = string[][];

export interface SchemaPolicies {
  /**
   * Requirement on `Type.field`, including one inherited from a type-level category of its parent
   * type or (unless `returnType` is null) of its return type.
   */
  field(parentType: string, field: string, returnType: string | null): PolicyRequirement | undefined;
  /** Scopes `Type.field` requires (`@requiresScopes`): OR of AND-lists. */
  scopes(parentType: string, field: string): PolicyRequirement | undefined;
  /** For a patient-bound type (the policy's `patientTypes`): the path to its patient's id, e.g. `patient.id`. */
  patientPath(type: string): string | undefined;
  /** Fields of patient-bound types the policy does not classify (withheld from everyone), as `Type.field`, sorted. */
  unclassified(): string[];
}

function requirementOf(directives: readonly ConstDirectiveNode[] | undefined, name = 'policy', argument = 'policies'): PolicyRequirement | undefined {
  const directive = directives?.find((d) => d.name.value === name);
  const value = directive?.arguments?.find((a) => a.name.value === argument)?.value;
  if (!value || value.kind !== Kind.LIST) return undefined;
  return value.values.map((inner) => (inner.kind === Kind.LIST ? inner.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : [])) : []));
}

/**
 * The category of a field of a patient-bound type that the policy does not classify: granted to
 * no role, so such a field is withheld from everyone until the policy gives it a category (a
 * partner subgraph adding a field to `Patient` cannot open a hole).
 */
export const UNCLASSIFIED = 'unclassified';

const namedTypeOf = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type));

/**
 * Reads the `@policy` and `@requiresScopes` directives of an SDL. With the policy's `patientTypes`,
 * a field of a patient-bound type that carries no category (own, its type's, or its return type's)
 * requires UNCLASSIFIED — unless it is an id (`ID`), a reference to a patient-bound type, or not
 * this schema's to serve (`@external`, `@inaccessible`).
 */
export function readSchemaPolicies(sdl: string, patientTypes: Readonly<Record<string, string>> = {}): SchemaPolicies {
  const fields = new Map<string, PolicyRequirement>();
  const types = new Map<string, PolicyRequirement>();
  const scopes = new Map<string, PolicyRequirement>();
  const document = parse(sdl);
  const candidates: { coordinate: string; parent: string; returnType: string }[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION)
      continue;
    const typeRequirement = requirementOf(definition.directives);
    if (typeRequirement) types.set(definition.name.value, typeRequirement);
    for (const field of definition.fields ?? []) {
      const requirement = requirementOf(field.directives);
      if (requirement) fields.set(`${definition.name.value}.${field.name.value}`, requirement);
      const scopeRequirement = requirementOf(field.directives, 'requiresScopes', 'scopes');
      if (scopeRequirement) scopes.set(`${definition.name.value}.${field.name.value}`, scopeRequirement);
      const returnType = namedTypeOf(field.type);
      const servedElsewhere = field.directives?.some((d) => d.name.value === 'external' || d.name.value === 'inaccessible');
      if (
        Object.hasOwn(patientTypes, definition.name.value) &&
        !requirement &&
        !servedElsewhere &&
        returnType !== 'ID' &&
        !Object.hasOwn(patientTypes, returnType)
      )
        candidates.push({ coordinate: `${definition.name.value}.${field.name.value}`, parent: definition.name.value, returnType });
    }
  }
  // Type-level categories are known once every definition was read.
  const unclassified: string[] = [];
  for (const { coordinate, parent, returnType } of candidates) {
    if (types.has(parent) || types.has(returnType)) continue;
    fields.set(coordinate, [[UNCLASSIFIED]]);
    unclassified.push(coordinate);
  }
  unclassified.sort();
  return {
    unclassified: () => [...unclassified],
    patientPath: (type) => (Object.hasOwn(patientTypes, type) ? patientTypes[type] : undefined),
    scopes: (parentType, field) => scopes.get(`${parentType}.${field}`),
    field: (parentType, field, returnType) => {
      const own = fields.get(`${parentType}.${field}`);
      const inherited = (returnType === null ? undefined : types.get(returnType)) ?? types.get(parentType);
      if (own && inherited) return own.flatMap((a) => inherited.map((b) => [...a, ...b]));
      return own ?? inherited;
    },
  };
}

/**
 * The requirement of a field judged by its arguments (`argumentCategories` in the policy): the
 * categories of the values asked for, or undefined to use the field's own (argument omitted or
 * empty, or no such rule). A value the rule does not know keeps the field's own, the strictest.
 */
export function argumentRequirement(policy: AccessPolicy, parentType: string, field: string, args: Record<string, unknown>): PolicyRequirement | undefined {
  const rules = policy.argumentCategories[`${parentType}.${field}`];
  if (!rules) return undefined;
  const categories = new Set<string>();
  for (const [argument, byValue] of Object.entries(rules)) {
    const given = args[argument];
    if (given === undefined || given === null || (Array.isArray(given) && given.length === 0)) return undefined;
    for (const value of Array.isArray(given) ? given : [given]) {
      const category = typeof value === 'string' ? byValue[value] : undefined;
      if (!category) return undefined;
      categories.add(category);
    }
  }
  return [[...categories].sort()];
}

/**
 * - granted: deliver;
 * - relationship: deliver only for patients the caller has the relationship with — checked by the
 *   subgraph that resolves the field, where the relationship data lives;
 * - counts: only connection totals;
 * - withheld: never.
 */
export type Decision = 'granted' | 'relationship' | 'counts' | 'withheld';
const RANK: Record<Decision, number> = { withheld: 0, counts: 1, relationship: 2, granted: 3 };

export type RelationshipKind = Extract<Grant, 'own-patients' | 'own-supervisees'>;

export interface PrincipalGrants {
  decide(requirement: PolicyRequirement): Decision;
  /** For a `relationship` decision: which relationship the caller needs with the patient. */
  relationship(requirement: PolicyRequirement): RelationshipKind | null;
  /** Whether the principal's token carries the scopes a `@requiresScopes` requirement asks for. */
  hasScopes(requirement: PolicyRequirement): boolean;
  /** Whether a requirement touches patient data (reading it needs a purpose of use). */
  isPatientData(requirement: PolicyRequirement): boolean;
  /** A cache key: principals with the same key get the same decisions. */
  key: string;
}

export function grantsFor(policy: AccessPolicy, principal: Principal): PrincipalGrants {
  const grants = policy.roles[principal.role] ?? {};
  const patient = new Set(policy.patientCategories);
  // Patient data is only available for a purpose the role may pursue; another purpose, or none, withholds it.
  const purposeAllowed = principal.purpose !== null && (policy.rolePurposes[principal.role] ?? []).includes(principal.purpose);
  const decideCategory = (category: string): Decision => {
    if (patient.has(category) && !purposeAllowed) return 'withheld';
    const grant = grants[category];
    if (grant === 'all') return 'granted';
    if (grant === 'own-patients' || grant === 'own-supervisees') return 'relationship';
    if (grant === 'counts') return 'counts';
    return 'withheld';
  };
  const decideAll = (categories: string[]): Decision =>
    categories.map(decideCategory).reduce<Decision>((worst, d) => (RANK[d] < RANK[worst] ? d : worst), 'granted');
  // A requirement is one of the schema's few (the same array for every call of a field): each is decided once per principal.
  const decided = new WeakMap<PolicyRequirement, Decision>();
  return {
    decide: (requirement) => {
      let decision = decided.get(requirement);
      if (decision === undefined) {
        decision = requirement.map(decideAll).reduce<Decision>((best, d) => (RANK[d] > RANK[best] ? d : best), 'withheld');
        decided.set(requirement, decision);
      }
      return decision;
    },
    relationship: (requirement) => {
      for (const category of requirement.flat()) {
        const grant = grants[category];
        if (grant === 'own-patients' || grant === 'own-supervisees') return grant;
      }
      return null;
    },
    isPatientData: (requirement) => requirement.some((list) => list.some((c) => patient.has(c) || c === UNCLASSIFIED)),
    hasScopes: (requirement) => requirement.some((list) => list.every((scope) => principal.scopes.includes(scope))),
    key: `${principal.role}|${purposeAllowed ? 'purpose' : principal.purpose === null ? 'no-purpose' : 'other-purpose'}|${[...principal.scopes].sort().join(' ')}`,
  };
}
