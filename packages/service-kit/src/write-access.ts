/**
 * The write rules (`writeRules` in schema/access-policy.json) at work in a subgraph: who may take
 * which step, for which patient. The subgraph that owns the change finds the relationship facts
 * (from its own rows, inside the transaction of the change, or from the subgraph that holds the
 * relationship) and asks `authorize`; a refusal is FORBIDDEN and rolls the change back.
 *
 * Every mutation call leaves one write record (step, patient, outcome) that travels to the
 * gateway in the response's extensions; the gateway writes it to the access log (NEN 7513)
 * and strips it before the client sees the response.
 */
import { defaultFieldResolver, GraphQLError, type GraphQLSchema } from 'graphql';
import { UNAUTHORIZED_CODE, type RequestAccess } from './access.js';
import type { ErrorCode } from './error-codes.js';
import { domainError } from './errors.js';
import { serviceLogger } from './logging.js';
import type { AccessPolicy, Principal, WriteRule } from './principal.js';

export type WriteOutcome = 'granted' | 'denied' | 'error';

/** What the access log needs of one step: never data values. */
export interface WriteRecord {
  /** `Mutation.field`. */
  coordinate: string;
  patientId: string | null;
  outcome: WriteOutcome;
}

/** The response extension that carries the write records from a subgraph to the gateway. */
export const WRITE_RECORDS_EXTENSION = 'ketengraphWrites';

/** A relationship fact: known already, or looked up only when the caller's role could rely on it. */
export type RelationshipFact = boolean | (() => boolean | Promise<boolean>);

export interface RequestWrites {
  /**
   * Refuses (FORBIDDEN) unless the caller's role may take this step, for a purpose it may take it
   * for, with one of the relationships the rule asks that holds. On success the patient's result
   * of this step is readable for the rest of the request.
   */
  authorize(coordinate: string, patientId: string | null, facts: Partial<Record<string, RelationshipFact>>): Promise<void>;
  /** The patient a step created (registerPatient): known only once the change is made. */
  recordPatient(patientId: string): void;
  /** Whether the caller's role could take the step through this relationship (to skip lookups it cannot use). */
  mayRelyOn(coordinate: string, relationship: string): boolean;
  /** The records of this request's steps, in order. */
  readonly records: readonly WriteRecord[];
}

interface RequestWritesInternal extends RequestWrites {
  begin(coordinate: string): void;
  end(outcome: WriteOutcome): void;
  authorized(): boolean;
}

export function forbidden(message: string, details: Record<string, unknown>): GraphQLError {
  return domainError('FORBIDDEN', message, details);
}

const STEP = (coordinate: string) => coordinate.slice('Mutation.'.length);

function describeAllowances(rule: WriteRule): string {
  return rule.allow.map((a) => `${a.role} (${a.relationship})`).join(', ');
}

export function createRequestWrites(policy: AccessPolicy, principal: Principal, access: Pick<RequestAccess, 'grantWritten'>): RequestWrites {
  const records: WriteRecord[] = [];
  let current: { record: WriteRecord; authorized: boolean } | null = null;
  const allowancesOf = (coordinate: string) => (policy.writeRules[coordinate]?.allow ?? []).filter((a) => a.role === principal.role);

  const writes: RequestWritesInternal = {
    records,
    begin(coordinate) {
      const record: WriteRecord = { coordinate, patientId: null, outcome: 'error' };
      records.push(record);
      current = { record, authorized: false };
    },
    end(outcome) {
      if (current) current.record.outcome = outcome;
      current = null;
    },
    authorized: () => current?.authorized ?? false,
    recordPatient(patientId) {
      if (current) current.record.patientId = patientId;
      access.grantWritten(patientId);
    },
    mayRelyOn: (coordinate, relationship) => allowancesOf(coordinate).some((a) => a.relationship === relationship),
    async authorize(coordinate, patientId, facts) {
      if (current && patientId) current.record.patientId = patientId;
      const rule = policy.writeRules[coordinate];
      const step = STEP(coordinate);
      if (!rule) throw forbidden(`No write rule covers ${step}; nobody may take it.`, { reason: 'no-rule', step });
      const mine = allowancesOf(coordinate);
      if (mine.length === 0) {
        throw forbidden(`A ${principal.role} may not take the step ${step}; it is taken by ${describeAllowances(rule)}.`, { reason: 'role', step });
      }
      const forPurpose = mine.filter((a) => a.purpose === principal.purpose);
      if (forPurpose.length === 0) {
        throw forbidden(`${step} is taken for the purpose ${mine.map((a) => a.purpose).join(' or ')}; ask for a token with that purpose.`, {
          reason: 'purpose',
          step,
        });
      }
      for (const allowance of forPurpose) {
        if (allowance.relationship === 'none') return grant();
        const fact = facts[allowance.relationship];
        if (fact === undefined) continue;
        if (typeof fact === 'boolean' ? fact : await fact()) return grant();
      }
      const needed = forPurpose.map((a) => a.relationship);
      throw forbidden(
        `Your organisation may take ${step} only as ${needed.map((r) => `${r}: ${policy.writeRelationships[r] ?? r}`).join('; or as ')} It is not, so nothing was changed.`,
        { reason: 'relationship', step, relationships: needed },
      );

      function grant(): void {
        if (current) current.authorized = true;
        if (patientId) access.grantWritten(patientId);
      }
    },
  };
  return writes;
}

/**
 * Wraps every mutation so that each call leaves exactly one write record: granted when the step
 * was authorised and completed, denied when it was refused (FORBIDDEN, or a missing scope),
 * error when it failed otherwise (the change was rolled back).
 */
export function recordWrites<Context extends { writes: RequestWrites }>(schema: GraphQLSchema, policy: AccessPolicy, subgraph: string): void {
  const log = serviceLogger(subgraph);
  const mutation = schema.getMutationType();
  for (const field of Object.values(mutation?.getFields() ?? {})) {
    // An @inaccessible mutation is no step of the chain: only a gateway system principal with an
    // internal scope can call it, and the gateway audits what it changes (the handover relay).
    if (field.astNode?.directives?.some((d) => d.name.value === 'inaccessible')) continue;
    const coordinate = `Mutation.${field.name}`;
    if (!policy.writeRules[coordinate])
      throw new Error(`${subgraph}: ${coordinate} has no rule in writeRules (schema/access-policy.json); every step needs one.`);
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = async (parent, args, context: Context, info) => {
      const writes = context.writes as RequestWritesInternal;
      writes.begin(coordinate);
      try {
        const result = await resolve(parent, args, context, info);
        if (!writes.authorized()) {
          // A step that did not ask the write rules is a bug; it is logged and recorded as an error.
          log.error({ coordinate }, 'mutation completed without a write-rule check');
          writes.end('error');
        } else writes.end('granted');
        return result;
      } catch (error) {
        const code = error instanceof GraphQLError ? error.extensions?.code : undefined;
        writes.end(code === ('FORBIDDEN' satisfies ErrorCode) || code === UNAUTHORIZED_CODE ? 'denied' : 'error');
        throw error;
      }
    };
  }
}
