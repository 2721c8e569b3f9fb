/**
 * After execution: puts `null` where fields were removed and an UNAUTHORIZED_FIELD_OR_TYPE error
 * at each such path, strips the gateway's hidden selections, and collects per patient what was
 * delivered and what was withheld — the facts the audit records.
 */
import { UNAUTHORIZED_CODE as UNAUTHORIZED } from '@ketengraph/service-kit';
import type { DirectiveNode, GraphQLFormattedError } from 'graphql';
import { FILLER_KEY, HIDDEN_PREFIX, PATIENT_KEY, type SelectionPlan } from './rewrite.js';

export interface PatientAccess {
  delivered: Map<string, string[]>;
  withheld: Map<string, string[]>;
}

export interface Completion {
  errors: GraphQLFormattedError[];
  /** Patient id (or null: data not tied to one patient) → coordinates delivered and withheld. */
  access: Map<string | null, PatientAccess>;
}

type Json = null | undefined | string | number | boolean | Json[] | { [key: string]: Json };
type Path = (string | number)[];
/** Paths are built as linked nodes and turned into arrays only for the few places that need one. */
type PathNode = { parent: PathNode; key: string | number } | null;

function toPath(node: PathNode): Path {
  const path: Path = [];
  for (let at = node; at; at = at.parent) path.push(at.key);
  return path.reverse();
}

/** Subgraph errors minus those about the gateway's own hidden selections, and minus the hidden extensions (the refused patient). */
export function visibleErrors(errors: readonly GraphQLFormattedError[]): GraphQLFormattedError[] {
  return errors
    .filter((error) => !error.path?.some((segment) => typeof segment === 'string' && segment.startsWith(HIDDEN_PREFIX)))
    .map((error) => {
      if (!error.extensions || !Object.keys(error.extensions).some((key) => key.startsWith(HIDDEN_PREFIX))) return error;
      return { ...error, extensions: Object.fromEntries(Object.entries(error.extensions).filter(([key]) => !key.startsWith(HIDDEN_PREFIX))) };
    });
}

/** The patient a subgraph named when it refused a field for the relationship (see the kit's `unauthorized`). */
function refusedPatient(error: GraphQLFormattedError): string | null {
  const value = error.extensions?.[`${HIDDEN_PREFIX}patient`];
  return typeof value === 'string' ? value : null;
}

/** The selected field at a response path (list indexes skipped), for refusals below a parent that came back null. */
function selectedAt(plan: SelectionPlan, path: readonly (string | number)[]): { coordinate: string; categories: string[] } | null {
  let current: SelectionPlan | null = plan;
  let found: { coordinate: string; categories: string[] } | null = null;
  for (const segment of path) {
    if (typeof segment === 'number') continue;
    const selected: { coordinate: string; categories: string[]; plan: SelectionPlan | null } | undefined = current?.fields.get(segment);
    if (!selected) return null;
    found = selected;
    current = selected.plan;
  }
  return found;
}

export function unauthorizedError(path: Path, coordinate: string): GraphQLFormattedError {
  return {
    message: `Not authorized for ${coordinate}: withheld for this caller (role, purpose, scope or relationship).`,
    path,
    extensions: { code: UNAUTHORIZED },
  };
}

function conditionsHold(conditions: DirectiveNode[], variables: Record<string, unknown>): boolean {
  for (const directive of conditions) {
    if (directive.name.value !== 'include' && directive.name.value !== 'skip') continue;
    const argument = directive.arguments?.find((a) => a.name.value === 'if')?.value;
    const value = argument?.kind === 'BooleanValue' ? argument.value : argument?.kind === 'Variable' ? Boolean(variables[argument.name.value]) : true;
    if (directive.name.value === 'include' ? !value : value) return false;
  }
  return true;
}

export function completeResponse(
  data: Record<string, Json> | null | undefined,
  plan: SelectionPlan,
  variables: Record<string, unknown>,
  subgraphErrors: readonly GraphQLFormattedError[],
): Completion {
  const errors: GraphQLFormattedError[] = [];
  // Only when a subgraph refused something (relationship rules) are paths needed to place it.
  const refusedBySubgraph = subgraphErrors.some((error) => error.extensions?.code === UNAUTHORIZED && error.path);
  const access = new Map<string | null, PatientAccess>();
  /** Path → coordinate and patient of fields that carry categories, to place subgraph refusals. */
  const guarded = new Map<string, { coordinate: string; categories: string[]; patient: string | null }>();
  const entry = (patient: string | null): PatientAccess => {
    let found = access.get(patient);
    if (!found) access.set(patient, (found = { delivered: new Map(), withheld: new Map() }));
    return found;
  };

  /** `via`: the field this object was reached through; a patient reached is accessed through it (one record per patient of a list). */
  function walk(
    value: Record<string, Json>,
    plan: SelectionPlan,
    path: PathNode,
    patient: string | null,
    via: { coordinate: string; categories: string[] } | null,
  ): void {
    const reference = value[PATIENT_KEY];
    if (reference !== undefined) {
      const id = typeof reference === 'string' ? reference : reference && typeof reference === 'object' && !Array.isArray(reference) ? reference.id : null;
      if (typeof id === 'string' && id !== patient) {
        patient = id;
        if (via?.categories.length) entry(patient).delivered.set(via.coordinate, via.categories);
      }
      // Undefined rather than deleted: JSON leaves it out, and the object keeps its fast shape.
      value[PATIENT_KEY] = undefined;
    }
    if (value[FILLER_KEY] !== undefined) value[FILLER_KEY] = undefined;
    for (const removal of plan.removals) {
      if (removal.onType && value.__typename !== undefined && value.__typename !== removal.onType) continue;
      if (!conditionsHold(removal.conditions, variables)) continue;
      if (value[removal.responseKey] === undefined) value[removal.responseKey] = null;
      errors.push(unauthorizedError([...toPath(path), removal.responseKey], removal.coordinate));
      entry(patient).withheld.set(removal.coordinate, removal.categories);
    }
    for (const [key, selected] of plan.fields) {
      const child = value[key];
      if (child === undefined) continue;
      const here: PathNode = { parent: path, key };
      if (selected.categories.length) {
        if (refusedBySubgraph) guarded.set(JSON.stringify(toPath(here)), { coordinate: selected.coordinate, categories: selected.categories, patient });
        if (child !== null) entry(patient).delivered.set(selected.coordinate, selected.categories);
      }
      if (!selected.plan || child === null || typeof child !== 'object') continue;
      if (Array.isArray(child)) {
        for (let index = 0; index < child.length; index++) {
          const item = child[index];
          if (item && typeof item === 'object' && !Array.isArray(item))
            walk(item, selected.plan, { parent: here, key: index }, patient, selected.categories.length ? selected : via);
        }
      } else {
        walk(child, selected.plan, here, patient, selected.categories.length ? selected : via);
      }
    }
  }

  if (data) walk(data, plan, null, null, null);

  // Refusals by subgraphs (relationship rules) are withheld fields too — also below a parent that
  // came back null (a read refused entirely), recorded for the patient the subgraph refused.
  for (const error of subgraphErrors) {
    if (error.extensions?.code !== UNAUTHORIZED || !error.path) continue;
    const found =
      guarded.get(JSON.stringify(error.path)) ??
      (() => {
        const selected = selectedAt(plan, error.path);
        return selected?.categories.length ? { ...selected, patient: null } : undefined;
      })();
    if (!found) continue;
    const record = entry(refusedPatient(error) ?? found.patient);
    record.delivered.delete(found.coordinate);
    record.withheld.set(found.coordinate, found.categories);
  }
  return { errors, access };
}
