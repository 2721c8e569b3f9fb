/**
 * Field-level authorization and the access log as one Apollo Server plugin: before planning it
 * removes what the caller may not see (rewrite.ts), after execution it completes the response
 * (complete.ts) and writes the audit records — and withholds the data when they cannot be
 * written (fail closed).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { AccessPolicy } from '@ketengraph/service-kit';
import { Kind, print, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import type { AuditAction, AuditLog, AuditRecordInput } from '../audit/index.js';
import type { GatewayContext } from '../admission/context.js';
import { errorDetails, serviceLogger } from '@ketengraph/service-kit';
import { auditRecords as auditRecordsWritten, auditWrites, authorizationDenials } from '../observability/metrics.js';
import { completeResponse, unauthorizedError, visibleErrors, type Completion } from './complete.js';
import { grantsFor, type PrincipalGrants, type SchemaPolicies, UNCLASSIFIED } from '@ketengraph/service-kit';
import type { PatientLookup } from './identify.js';
import { rewriteOperation, type Rewrite, type SelectionPlan } from './rewrite.js';
import { mergeStepReads, writeAuditRecords } from '../audit/writes.js';

export type AuthorizationMode = 'filter' | 'reject';

export interface AuthorizationOptions {
  policy: AccessPolicy;
  /** The supergraph's policies; a function when they follow supergraph reloads. */
  policies: SchemaPolicies | (() => SchemaPolicies);
  /** filter: withheld fields become null with an error; reject: an operation with any withheld field is refused whole. */
  mode: AuthorizationMode;
  audit: AuditLog;
  /** For the access log of operations refused before execution: the patients of the placements they named. */
  placementPatients?: PatientLookup;
  /** Likewise: the patients of the BSNs they searched for (`patientByBsn`). */
  bsnPatients?: PatientLookup;
  /** Rewrites kept per (operation, role, purpose state); operations repeat, so this keeps the hot path at a lookup. */
  cacheSize?: number;
}

interface CachedRewrite extends Rewrite {
  queryHash: string;
}

/** Values an operation names at its root for a field's argument (`patient(id:)`, `placement(id:)`, `patientByBsn(bsn:)`), literal or variable. */
function rootIds(operation: OperationDefinitionNode | undefined, variables: Record<string, unknown>, field: string, argument = 'id'): string[] {
  const ids = new Set<string>();
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind !== Kind.FIELD || selection.name.value !== field) continue;
    const value = selection.arguments?.find((a) => a.name.value === argument)?.value;
    const id = value?.kind === Kind.STRING ? value.value : value?.kind === Kind.VARIABLE ? variables[value.name.value] : undefined;
    if (typeof id === 'string') ids.add(id);
  }
  return [...ids];
}

/**
 * A delivered change's records: the list field it was delivered through (`Query.placementChanges`)
 * is in the record of every patient reached through it (completeResponse), so a patient-less
 * record that names nothing else is left out — one record per delivery and patient instead of
 * two. One that names more (a field withheld, a field of no patient) is kept.
 */
function onePerPatient(records: AuditRecordInput[]): AuditRecordInput[] {
  const patients = records.filter((record) => record.patientId !== null);
  const patientless = records.find((record) => record.patientId === null);
  if (!patientless || patients.length === 0) return records;
  const delivered = new Set(patients.flatMap((record) => record.fieldsDelivered));
  return patientless.fieldsWithheld.length === 0 && patientless.fieldsDelivered.every((field) => delivered.has(field)) ? patients : records;
}

export function authorizationPlugin(options: AuthorizationOptions): ApolloServerPlugin<GatewayContext> {
  const cache = new Map<string, CachedRewrite | null>();
  /** Per operation and grants: the variables its rewrite depends on (usually none). */
  const variableDependencies = new Map<string, string[]>();
  const cacheSize = options.cacheSize ?? 2000;
  // Withheld unclassified fields of patient-bound types are patient data the access log records too.
  const patientCategories = new Set([...options.policy.patientCategories, UNCLASSIFIED]);
  // Decisions depend only on role, purpose and scopes, so principals share them.
  const grantsCache = new Map<string, PrincipalGrants>();
  const log = serviceLogger('gateway');
  let cachedPolicies: SchemaPolicies | undefined;

  function rewriteFor(context: GraphQLRequestContextDidResolveOperation<GatewayContext>): CachedRewrite | null {
    const { principal } = context.contextValue;
    const grantsKey = `${principal.role}|${principal.purpose ?? ''}|${principal.scopes.join(' ')}`;
    let grants = grantsCache.get(grantsKey);
    if (!grants) grantsCache.set(grantsKey, (grants = grantsFor(options.policy, principal)));
    const policies = typeof options.policies === 'function' ? options.policies() : options.policies;
    if (policies !== cachedPolicies) {
      // A reloaded supergraph may carry other policies: rewrites made under the old ones are void.
      cache.clear();
      variableDependencies.clear();
      cachedPolicies = policies;
    }
    const base = `${context.queryHash}|${context.operationName ?? ''}|${grants.key}`;
    // Fields judged by their arguments make a rewrite depend on those variables' values too.
    const variables = context.request.variables ?? {};
    const keyOf = (used: readonly string[]) => (used.length ? `${base}|${JSON.stringify(used.map((name) => variables[name] ?? null))}` : base);
    const used = variableDependencies.get(base);
    if (used && cache.has(keyOf(used))) return cache.get(keyOf(used))!;
    const rewrite = rewriteOperation(context.schema, context.document, context.operationName, policies, grants, { policy: options.policy, variables });
    if (variableDependencies.size >= cacheSize) variableDependencies.delete(variableDependencies.keys().next().value!);
    variableDependencies.set(base, rewrite?.variablesUsed ?? []);
    const key = keyOf(rewrite?.variablesUsed ?? []);
    const cached = rewrite && { ...rewrite, queryHash: createHash('sha256').update(print(rewrite.document)).digest('hex') };
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
    cache.set(key, cached);
    return cached;
  }

  /** Paths of removed fields when there is no response to walk (refused before execution). */
  function staticRemovals(plan: SelectionPlan, path: string[] = []): GraphQLFormattedError[] {
    return [
      ...plan.removals.map((r) => unauthorizedError([...path, r.responseKey], r.coordinate)),
      ...[...plan.fields].flatMap(([key, f]) => (f.plan ? staticRemovals(f.plan, [...path, key]) : [])),
    ];
  }

  function auditRecords(
    context: {
      contextValue: GatewayContext;
      operationName?: string | null | undefined;
      operation?: { operation: string; selectionSet: { selections: readonly unknown[] } } | undefined;
    },
    completion: Completion,
    outcomeOverride?: 'denied',
  ): AuditRecordInput[] {
    const { principal, requestId } = context.contextValue;
    const rootFields = (context.operation?.selectionSet.selections ?? []).flatMap((s) =>
      (s as { kind: string }).kind === 'Field' ? [(s as { name: { value: string } }).name.value] : [],
    );
    const action: AuditAction =
      context.operation?.operation === 'mutation'
        ? rootFields.some((f) => options.policy.writeRules[`Mutation.${f}`]?.action === 'create')
          ? 'create'
          : 'update'
        : rootFields.some((f) => options.policy.readActions[`Query.${f}`] === 'search')
          ? 'search'
          : 'read';
    const records: AuditRecordInput[] = [];
    for (const [patientId, access] of completion.access) {
      const isPatient = (categories: string[]) => categories.some((c) => patientCategories.has(c));
      const delivered = [...access.delivered].filter(([, c]) => isPatient(c));
      const withheld = [...access.withheld].filter(([, c]) => isPatient(c));
      if (delivered.length === 0 && withheld.length === 0) continue;
      records.push({
        eventId: randomUUID(),
        occurredAt: new Date(),
        action,
        patientId,
        userId: principal.subject,
        organisationId: principal.organisationId,
        role: principal.role,
        purpose: principal.purpose,
        fieldsDelivered: delivered.map(([f]) => f).sort(),
        categoriesDelivered: [...new Set(delivered.flatMap(([, c]) => c))].sort(),
        fieldsWithheld: withheld.map(([f]) => f).sort(),
        categoriesWithheld: [...new Set(withheld.flatMap(([, c]) => c))].sort(),
        outcome: outcomeOverride ?? (delivered.length === 0 ? 'denied' : withheld.length ? 'partially_granted' : 'granted'),
        requestId,
        operationName: context.operationName ?? null,
      });
    }
    if (context.operation?.operation !== 'mutation') return records;
    // Changes: one record per step the subgraphs reported (or failed to report), with the step's result read merged into it.
    // Refused before planning (scope): no subgraph was asked, each step is denied without a patient.
    const reported = outcomeOverride
      ? rootFields.map((f) => ({ coordinate: `Mutation.${f}`, patientId: null, outcome: 'denied' as const }))
      : (context.contextValue.writes ?? []);
    const steps = writeAuditRecords(options.policy, reported, outcomeOverride ? [] : rootFields, {
      userId: principal.subject,
      organisationId: principal.organisationId,
      role: principal.role,
      purpose: principal.purpose,
      requestId,
      operationName: context.operationName ?? null,
    });
    return mergeStepReads(steps, records);
  }

  /** Writes the records, or withholds the data when they cannot be written (fail closed). */
  async function writeAudit(
    context: GraphQLRequestContextWillSendResponse<GatewayContext>,
    records: AuditRecordInput[],
    result: { data?: Record<string, unknown> | null; errors?: readonly GraphQLFormattedError[] },
  ): Promise<void> {
    if (records.length === 0) return;
    try {
      await options.audit.append(records);
      auditWrites.inc({ outcome: 'ok' });
      auditRecordsWritten.inc(records.length);
    } catch (error) {
      auditWrites.inc({ outcome: 'failed' });
      log.error({ requestId: context.contextValue.requestId, ...errorDetails(error) }, 'audit write failed; response withheld');
      result.data = null;
      result.errors = [
        { message: 'The access log could not be written, so no patient data is returned. Try again later.', extensions: { code: 'AUDIT_UNAVAILABLE' } },
      ];
      if (context.response.http) context.response.http.status = 503;
    }
  }

  return {
    async requestDidStart() {
      let rewrite: CachedRewrite | null = null;
      let refusal: GraphQLFormattedError[] | null = null;
      /** A refusal's HTTP status: a missing purpose is the caller's to fix (403), never a server error. */
      let refusalStatus: number | undefined;
      return {
        async didResolveOperation(context) {
          rewrite = rewriteFor(context);
          if (!rewrite) return;
          if (rewrite.touchesPatientData && context.contextValue.principal.purpose === null) {
            // Refused whole, and recorded like any refusal (the attempt is in the access log).
            authorizationDenials.inc({ reason: 'purpose-required' });
            refusal = [
              {
                message: 'Patient data is only given for a purpose of use; ask your identity provider for a token with a purpose.',
                extensions: { code: 'PURPOSE_REQUIRED' },
              },
            ];
            refusalStatus = 403;
            return;
          }
          if (rewrite.nothingLeft || (options.mode === 'reject' && rewrite.removedCount > 0)) {
            refusal = staticRemovals(rewrite.plan);
            authorizationDenials.inc({ reason: 'operation-refused' });
            return;
          }
          // The gateway plans the rewritten operation; its plan cache is keyed by this hash.
          Object.assign(context, { document: rewrite.document, queryHash: rewrite.queryHash });
        },
        async responseForOperation() {
          if (!refusal) return null;
          return { http: { status: refusalStatus, headers: new Map() } as never, body: { kind: 'single', singleResult: { data: null, errors: refusal } } };
        },
        async willSendResponse(context) {
          if (!rewrite || context.response.body.kind !== 'single') return;
          const result = context.response.body.singleResult;
          let completion: Completion;
          if (refusal) {
            const withheld = new Map<string, string[]>();
            const collect = (plan: SelectionPlan) => {
              plan.removals.forEach((r) => withheld.set(r.coordinate, r.categories));
              plan.fields.forEach((f) => f.plan && collect(f.plan));
            };
            collect(rewrite.plan);
            // Nothing was executed, so the patients are those the operation named: `patient(id:)`, or the patient of a `placement(id:)` or a `patientByBsn(bsn:)`.
            const variables = context.request.variables ?? {};
            const named = async (field: string, argument: string, lookup: PatientLookup | undefined) => {
              const keys = rootIds(context.operation, variables, field, argument);
              return keys.length && lookup ? (await lookup(keys)).filter((id): id is string => typeof id === 'string') : [];
            };
            const [ofPlacements, ofBsns] = await Promise.all([
              named('placement', 'id', options.placementPatients),
              named('patientByBsn', 'bsn', options.bsnPatients),
            ]);
            const asked = [...new Set([...rootIds(context.operation, variables, 'patient'), ...ofPlacements, ...ofBsns])];
            completion = { errors: [], access: new Map((asked.length ? asked : [null]).map((patient) => [patient, { delivered: new Map(), withheld }])) };
          } else if (context.contextValue.deliveries) {
            // A batch of changes: each item of the list is one change, completed and audited for its own receivers.
            const { key, receivers } = context.contextValue.deliveries;
            const list = (result.data as Record<string, unknown> | null | undefined)?.[key];
            const subgraphErrors = result.errors ?? [];
            const atIndex = (error: GraphQLFormattedError) => (error.path?.[0] === key && typeof error.path[1] === 'number' ? error.path[1] : null);
            const errors: GraphQLFormattedError[] = visibleErrors(subgraphErrors);
            const records: AuditRecordInput[] = [];
            let withheld = 0;
            receivers.forEach((deliveries, index) => {
              const part = { [key]: Array.isArray(list) ? list[index] : null } as Record<string, never>;
              const own = subgraphErrors.filter((error) => atIndex(error) === index).map((error) => ({ ...error, path: [key, ...error.path!.slice(2)] }));
              const completed = completeResponse(part, rewrite!.plan, context.request.variables ?? {}, own);
              if (Array.isArray(list)) list[index] = part[key];
              withheld += completed.errors.length;
              errors.push(...completed.errors.map((error) => ({ ...error, path: [key, index, ...(error.path ?? []).slice(1)] })));
              const read = onePerPatient(auditRecords(context, completed));
              for (const delivery of deliveries)
                for (const record of read)
                  records.push({ ...record, eventId: randomUUID(), requestId: delivery.requestId, userId: delivery.principal.subject });
            });
            if (withheld) authorizationDenials.inc({ reason: 'field-withheld' }, withheld);
            result.errors = errors.length ? errors : undefined;
            await writeAudit(context, records, result);
            return;
          } else {
            completion = completeResponse(result.data as never, rewrite.plan, context.request.variables ?? {}, result.errors ?? []);
            if (completion.errors.length) authorizationDenials.inc({ reason: 'field-withheld' }, completion.errors.length);
            const errors = [...visibleErrors(result.errors ?? []), ...completion.errors];
            result.errors = errors.length ? errors : undefined;
          }
          const own = auditRecords(context, completion, refusal ? 'denied' : undefined);
          // Refused whole while resolving changes for several receivers: each receiver's attempt is recorded.
          const receivers = context.contextValue.deliveries?.receivers.flat() ?? [];
          const records = receivers.length
            ? receivers.flatMap((receiver) =>
                own.map((record) => ({ ...record, eventId: randomUUID(), requestId: receiver.requestId, userId: receiver.principal.subject })),
              )
            : own;
          await writeAudit(context, records, result);
        },
      };
    },
  };
}
