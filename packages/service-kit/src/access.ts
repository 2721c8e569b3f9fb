/**
 * Defense in depth: every subgraph applies the access policy to its own fields, so a
 * misconfigured gateway cannot leak data, and checks the relationship rules ("own patients",
 * "own supervisees") where the relationship data lives — never on a client's word.
 *
 * A field with a `@policy` in the subgraph's SDL is wrapped: granted → resolved; withheld →
 * UNAUTHORIZED_FIELD_OR_TYPE (the field is nullable, so the response keeps its shape); counts →
 * a connection without items; relationship → resolved only when the caller's organisation has
 * the relationship with the patient the parent object belongs to.
 */
import DataLoader from 'dataloader';
import { defaultFieldResolver, getNamedType, GraphQLError, isObjectType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { argumentRequirement, grantsFor, type Decision, type PolicyRequirement, type RelationshipKind, type SchemaPolicies } from './grants.js';
import type { ErrorCode } from './error-codes.js';
import { domainError } from './errors.js';
import { type AccessPolicy, loadAccessPolicy, type Principal } from './principal.js';

export const UNAUTHORIZED_CODE = 'UNAUTHORIZED_FIELD_OR_TYPE' satisfies ErrorCode;
/**
 * Extension naming the patient a relationship refusal was about, for the gateway's access log
 * (a read refused entirely is still recorded per patient). Subgraphs answer only the gateway,
 * which removes it before any response leaves (`kg__` is its prefix for what clients never see).
 */
export const REFUSED_PATIENT_EXTENSION = 'kg__patient';

export function unauthorized(coordinate: string, patientId?: string | null): GraphQLError {
  return new GraphQLError(`Not authorized for ${coordinate}: withheld for this caller (role, purpose, scope or relationship).`, {
    extensions: { code: UNAUTHORIZED_CODE, ...(patientId ? { [REFUSED_PATIENT_EXTENSION]: patientId } : {}) },
  });
}

/** Answers which of the given patients (or, with null, all patients) an organisation has a relationship with. */
export type RelationshipLookup = (organisationId: string, patientIds: readonly string[] | null) => Promise<string[]>;

/** Per request: the caller's decisions and relationship checks, batched. */
export interface RequestAccess {
  principal: Principal;
  decide(requirement: PolicyRequirement): Decision;
  relationship(requirement: PolicyRequirement): RelationshipKind | null;
  hasScopes(requirement: PolicyRequirement): boolean;
  isRelated(kind: RelationshipKind, patientId: string): Promise<boolean>;
  /** For list fields: the patients the caller may see under a relationship grant. */
  relatedPatientIds(kind: RelationshipKind): Promise<string[]>;
  /** The decision for a coordinate of this subgraph (resolvers that filter lists ask it). */
  decideField(parentType: string, field: string): { decision: Decision; kind: RelationshipKind | null } | null;
  /** The patient a trajectory belongs to, from its owner (indicatiestelling); null when it does not know it. Batched per request. */
  trajectoryPatient(trajectoryId: string): Promise<string | null>;
  /**
   * The caller took an authorised step for this patient in this request: the step's own result
   * reads as what happened (never "withheld" for a change that was applied).
   */
  grantWritten(patientId: string): void;
}

/** Answers which patient each of the given trajectories belongs to (ids it does not know are left out). */
export type TrajectoryOwnerLookup = (trajectoryIds: readonly string[]) => Promise<Map<string, string>>;

// The grants of a principal under a policy, kept while both are (the token verifier hands out the same principal for the same token).
const grantsByPolicy = new WeakMap<AccessPolicy, WeakMap<Principal, ReturnType<typeof grantsFor>>>();

export function createRequestAccess(
  policy: AccessPolicy,
  policies: SchemaPolicies,
  principal: Principal,
  lookups: Record<RelationshipKind, RelationshipLookup>,
  trajectoryOwners: TrajectoryOwnerLookup,
): RequestAccess {
  let byPrincipal = grantsByPolicy.get(policy);
  if (!byPrincipal) grantsByPolicy.set(policy, (byPrincipal = new WeakMap()));
  let grants = byPrincipal.get(principal);
  if (!grants) byPrincipal.set(principal, (grants = grantsFor(policy, principal)));
  const written = new Set<string>();
  const loaders = new Map<RelationshipKind, DataLoader<string, boolean>>();
  const loader = (kind: RelationshipKind) => {
    let found = loaders.get(kind);
    if (!found) {
      found = new DataLoader<string, boolean>(async (ids) => {
        const related = new Set(await lookups[kind](principal.organisationId, ids));
        return ids.map((id) => related.has(id));
      });
      loaders.set(kind, found);
    }
    return found;
  };
  const owners = new DataLoader<string, string | null>(async (ids) => {
    const found = await trajectoryOwners(ids);
    return ids.map((id) => found.get(id) ?? null);
  });
  return {
    principal,
    trajectoryPatient: (trajectoryId) => owners.load(trajectoryId),
    decide: grants.decide,
    relationship: grants.relationship,
    hasScopes: grants.hasScopes,
    isRelated: async (kind, patientId) => written.has(patientId) || loader(kind).load(patientId),
    relatedPatientIds: (kind) => lookups[kind](principal.organisationId, null),
    grantWritten: (patientId) => void written.add(patientId),
    decideField: (parentType, field) => {
      const requirement = policies.field(parentType, field, null);
      return requirement ? { decision: grants.decide(requirement), kind: grants.relationship(requirement) } : null;
    },
  };
}

/**
 * Which patient a parent object belongs to; null when it cannot be told (the field is withheld).
 * `undefined`: not tied to one patient at this level — only for types whose guarded fields filter
 * themselves in SQL (a root search, a provider's placement list); see `filtersItself`.
 */
// biome-ignore lint/suspicious/noExplicitAny: each type's rule reads its own parent shape (Prisma rows, entity references)
export type PatientOf<Context> = (parent: any, context: Context) => string | null | undefined | Promise<string | null | undefined>;

/** For a type whose relationship-guarded fields apply the relationship in their own SQL. */
export const filtersItself = (): undefined => undefined;

/**
 * Wraps the resolvers of every field that carries a `@policy` in this subgraph's SDL. A field with
 * `argumentCategories` in the policy is judged by the arguments of each call (what is asked).
 */
export function guardSchema<Context extends { access: RequestAccess }>(
  schema: GraphQLSchema,
  policies: SchemaPolicies,
  patientOf: Record<string, PatientOf<Context>>,
  policy?: AccessPolicy,
): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const declared = policies.field(type.name, field.name, null);
      const scopes = policies.scopes(type.name, field.name);
      if (!declared && !scopes) continue;
      const coordinate = `${type.name}.${field.name}`;
      const isConnection = getNamedType(field.type).name.endsWith('Connection');
      const byArguments = policy?.argumentCategories[coordinate] !== undefined;
      const resolve = field.resolve ?? defaultFieldResolver;
      // Synchronous while nothing needs waiting for: a granted field resolves as it would unguarded
      // (a promise per field would make graphql-js complete every parent object asynchronously).
      field.resolve = (parent, args, context: Context, info) => {
        const { access } = context;
        if (scopes && !access.hasScopes(scopes)) throw unauthorized(coordinate);
        if (!declared) return resolve(parent, args, context, info);
        const requirement = (byArguments && argumentRequirement(policy!, type.name, field.name, args)) || declared;
        const decision = access.decide(requirement);
        if (decision === 'granted') return resolve(parent, args, context, info);
        return restricted(parent, args, context, info, requirement, decision);
      };
      const restricted = async (
        parent: unknown,
        args: Record<string, unknown>,
        context: Context,
        info: GraphQLResolveInfo,
        requirement: PolicyRequirement,
        decision: Decision,
      ) => {
        const { access } = context;
        if (decision === 'counts' && isConnection) {
          const connection = (await resolve(parent, args, context, info)) as { edges?: unknown[] } | null;
          return connection && { ...connection, edges: [] };
        }
        if (decision !== 'relationship') throw unauthorized(coordinate);
        const kind = access.relationship(requirement)!;
        // A type without a rule for finding its patient is withheld: fail closed, never unchecked.
        const of = patientOf[type.name];
        if (!of) throw unauthorized(coordinate);
        const patientId = await of(parent, context);
        if (patientId === undefined) return resolve(parent, args, context, info);
        if (patientId !== null && (await access.isRelated(kind, patientId))) return resolve(parent, args, context, info);
        throw unauthorized(coordinate, patientId);
      };
    }
  }
}

/**
 * Asks indicatiestelling, which owns trajectories, whose they are (`_entities`, one call per batch),
 * with the request's gateway token. No answer is an error: the guard then withholds the field.
 */
export function remoteTrajectoryOwners(url: string, gatewayToken: () => string, timeoutMs = 3000): TrajectoryOwnerLookup {
  return async (trajectoryIds) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gatewayToken()}` },
      body: JSON.stringify({
        query:
          'query TrajectoryOwners($representations: [_Any!]!) { _entities(representations: $representations) { ... on Trajectory { id patient { id } } } }',
        variables: { representations: trajectoryIds.map((id) => ({ __typename: 'Trajectory', id })) },
      }),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch(() => null);
    const body = response?.ok ? ((await response.json()) as { data?: { _entities?: ({ id?: string; patient?: { id?: string } } | null)[] } }) : null;
    const entities = body?.data?._entities;
    if (!Array.isArray(entities)) throw domainError('DEPENDENCY_UNAVAILABLE', 'The patient of this trajectory could not be checked; try again later.');
    const owners = new Map<string, string>();
    for (const entity of entities) if (entity?.id && entity.patient?.id) owners.set(entity.id, entity.patient.id);
    return owners;
  };
}

/** The (inaccessible) query field on which the holding subgraph answers a relationship (the policy's `relationshipHolders`). */
export function relationshipField(kind: RelationshipKind, policy: AccessPolicy = loadAccessPolicy()): string {
  return policy.relationshipHolders[kind].field;
}

/** Asks the subgraph that holds a relationship, as the same principal (its gateway token forwarded). */
export function remoteRelationshipLookup(kind: RelationshipKind, url: string, gatewayToken: () => string, timeoutMs = 3000): RelationshipLookup {
  const field = relationshipField(kind);
  return async (_organisationId, patientIds) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gatewayToken()}` },
      body: JSON.stringify({ query: `query Related($ids: [ID!]) { ${field}(patientIds: $ids) }`, variables: { ids: patientIds } }),
      signal: AbortSignal.timeout(timeoutMs),
    }).catch(() => null);
    const body = response?.ok ? ((await response.json()) as { data?: Record<string, string[] | undefined> }) : null;
    const ids = body?.data?.[field];
    // Without an answer there is no relationship to rely on: withhold rather than guess.
    if (!Array.isArray(ids)) throw domainError('DEPENDENCY_UNAVAILABLE', 'The relationship with this patient could not be checked; try again later.');
    return ids;
  };
}
