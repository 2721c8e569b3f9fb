/**
 * Removes what a principal may not see from an operation before it is planned, so no subgraph is
 * asked for it, and remembers where each removed field was so the response can carry `null`
 * and an error there. Fragments are inlined first: a fragment used in several places may be
 * allowed in one and not in another, and removal must follow the place, not the fragment.
 */
import {
  getNamedType,
  isAbstractType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type DirectiveNode,
  valueFromASTUntyped,
  visit as visitAst,
} from 'graphql';
import {
  argumentRequirement,
  type AccessPolicy,
  type Decision,
  type PolicyRequirement,
  type PrincipalGrants,
  type SchemaPolicies,
} from '@ketengraph/service-kit';

/** Hidden selections the gateway adds; stripped from every response. */
export const HIDDEN_PREFIX = 'kg__';
export const PATIENT_KEY = `${HIDDEN_PREFIX}patient`;
export const FILLER_KEY = `${HIDDEN_PREFIX}typename`;

/** A field removed from one selection set. */
export interface Removal {
  responseKey: string;
  coordinate: string;
  categories: string[];
  /** Only objects of this runtime type carry the field (inline fragment on a narrower type). */
  onType: string | null;
  /** @include/@skip of the field and its enclosing fragments, evaluated per request. */
  conditions: DirectiveNode[];
}

/** The selection tree the response is walked with. */
export interface SelectionPlan {
  typeName: string;
  removals: Removal[];
  /** Kept fields by response key: coordinate and categories (if any), and the sub-plan. */
  fields: Map<string, { coordinate: string; categories: string[]; decision: Decision; plan: SelectionPlan | null }>;
}

export interface Rewrite {
  /** The document to plan and execute: the operation with what may not be seen removed. */
  document: DocumentNode;
  plan: SelectionPlan;
  /** Every removed field, for reject mode and for the audit when nothing was executed. */
  removedCount: number;
  /** The operation asks for patient data (it needs a purpose of use). */
  touchesPatientData: boolean;
  /** Nothing the principal may see is left in the operation. */
  nothingLeft: boolean;
  /** Variables the decisions depended on (arguments of fields judged by what is asked); cached rewrites are keyed by their values. */
  variablesUsed: string[];
  operation: OperationDefinitionNode;
}

/** How the gateway asks which patient an object of a patient-bound type belongs to (the policy's `patientTypes`: `id`, `patientId`, `patient.id`). */
function patientReference(path: string): FieldNode {
  const [first, ...rest] = path.split('.');
  return field(PATIENT_KEY, first!, rest.length ? rest.map((name) => field(null, name)) : undefined);
}

function field(alias: string | null, name: string, selections?: FieldNode[]): FieldNode {
  return {
    kind: Kind.FIELD,
    ...(alias ? { alias: { kind: Kind.NAME, value: alias } } : {}),
    name: { kind: Kind.NAME, value: name },
    ...(selections ? { selectionSet: { kind: Kind.SELECTION_SET, selections } } : {}),
  };
}

export function rewriteOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null,
  policies: SchemaPolicies,
  grants: PrincipalGrants,
  /** For fields judged by their arguments (the policy's `argumentCategories`): the policy and the request's variables. */
  byArguments?: { policy: AccessPolicy; variables: Record<string, unknown> },
): Rewrite | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return null;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return null;
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  let removedCount = 0;
  let touchesPatientData = false;
  const variablesUsed = new Set<string>();

  /** The requirement of this field as asked: by its arguments when the policy says so, else as declared. */
  function askedRequirement(parentType: string, selection: FieldNode, declared: PolicyRequirement | undefined): PolicyRequirement | undefined {
    if (!declared || !byArguments) return declared;
    const rules = byArguments.policy.argumentCategories[`${parentType}.${selection.name.value}`];
    if (!rules) return declared;
    const args: Record<string, unknown> = {};
    for (const argument of selection.arguments ?? []) {
      if (!(argument.name.value in rules)) continue;
      visitAst(argument.value, { Variable: (node) => void variablesUsed.add(node.name.value) });
      args[argument.name.value] = valueFromASTUntyped(argument.value, byArguments.variables);
    }
    return argumentRequirement(byArguments.policy, parentType, selection.name.value, args) ?? declared;
  }

  function visit(
    selectionSet: SelectionSetNode,
    parentType: GraphQLCompositeType,
    plan: SelectionPlan,
    onType: string | null,
    conditions: DirectiveNode[],
    countsOnly: boolean,
  ): SelectionNode[] {
    const kept: SelectionNode[] = [];
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) continue;
        const inlined = {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          directives: selection.directives,
          selectionSet: fragment.selectionSet,
        } as const;
        kept.push(...visitInline(inlined, parentType, plan, onType, conditions, countsOnly));
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        kept.push(...visitInline(selection, parentType, plan, onType, conditions, countsOnly));
        continue;
      }
      const name = selection.name.value;
      const responseKey = selection.alias?.value ?? name;
      if (name.startsWith('__')) {
        // Introspection carries no policy, but its fragments (GraphiQL's `...FullType`) must be inlined too: the rewritten document has no fragment definitions.
        kept.push(selection.selectionSet ? { ...selection, selectionSet: inlineFragments(selection.selectionSet) } : selection);
        continue;
      }
      const definition = isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[name] : undefined;
      if (!definition) {
        kept.push(selection); // unknown to us: validation already passed, so leave it to execution
        continue;
      }
      const returnType = getNamedType(definition.type);
      const requirement = askedRequirement(parentType.name, selection, policies.field(parentType.name, name, returnType.name));
      const scopes = policies.scopes(parentType.name, name);
      let decision: Decision = scopes && !grants.hasScopes(scopes) ? 'withheld' : requirement ? grants.decide(requirement) : 'granted';
      if (requirement && grants.isPatientData(requirement)) touchesPatientData = true;
      const isConnection = returnType.name.endsWith('Connection');
      if (decision === 'counts' && !isConnection) decision = 'withheld';
      // Inside a counts-only connection, totals and page information are aggregate, items are not.
      if (countsOnly && name === 'edges') decision = 'withheld';
      const coordinate = `${parentType.name}.${name}`;
      const categories = requirement ? [...new Set(requirement.flat())] : [];
      if (decision === 'withheld') {
        removedCount++;
        plan.removals.push({ responseKey, coordinate, categories, onType, conditions: [...conditions, ...(selection.directives ?? [])] });
        continue;
      }
      if (!selection.selectionSet) {
        plan.fields.set(responseKey, { coordinate, categories, decision, plan: null });
        kept.push(selection);
        continue;
      }
      const childPlan: SelectionPlan = { typeName: returnType.name, removals: [], fields: new Map() };
      const childSelections = visit(selection.selectionSet, returnType as GraphQLCompositeType, childPlan, null, [], decision === 'counts');
      const patientPath = policies.patientPath(returnType.name);
      if (patientPath) childSelections.push(patientReference(patientPath));
      if (childSelections.length === 0) childSelections.push(field(FILLER_KEY, '__typename'));
      plan.fields.set(responseKey, { coordinate, categories, decision, plan: mergePlan(plan.fields.get(responseKey)?.plan ?? null, childPlan) });
      kept.push({ ...selection, selectionSet: { kind: Kind.SELECTION_SET, selections: childSelections } });
    }
    return kept;
  }

  function visitInline(
    fragment: { typeCondition?: { name: { value: string } } | undefined; directives?: readonly DirectiveNode[] | undefined; selectionSet: SelectionSetNode },
    parentType: GraphQLCompositeType,
    plan: SelectionPlan,
    onType: string | null,
    conditions: DirectiveNode[],
    countsOnly: boolean,
  ): SelectionNode[] {
    const conditionType = fragment.typeCondition ? (schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined) : parentType;
    if (!conditionType) return [];
    // A fragment on the parent's own type (or an abstract supertype) applies to every object here.
    const narrower = conditionType.name !== parentType.name && !isAbstractType(conditionType) ? conditionType.name : onType;
    const selections = visit(fragment.selectionSet, conditionType, plan, narrower, [...conditions, ...(fragment.directives ?? [])], countsOnly);
    if (selections.length === 0) return [];
    return [
      {
        kind: Kind.INLINE_FRAGMENT,
        ...(fragment.typeCondition ? { typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: conditionType.name } } } : {}),
        directives: fragment.directives ?? [],
        selectionSet: { kind: Kind.SELECTION_SET, selections },
      },
    ];
  }

  /** The selection set with every fragment spread replaced by an inline fragment of the same content. */
  function inlineFragments(selectionSet: SelectionSetNode): SelectionSetNode {
    const selections = selectionSet.selections.flatMap((selection): SelectionNode[] => {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        return fragment
          ? [
              {
                kind: Kind.INLINE_FRAGMENT,
                typeCondition: fragment.typeCondition,
                directives: selection.directives ?? [],
                selectionSet: inlineFragments(fragment.selectionSet),
              },
            ]
          : [];
      }
      return selection.selectionSet ? [{ ...selection, selectionSet: inlineFragments(selection.selectionSet) }] : [selection];
    });
    return { kind: Kind.SELECTION_SET, selections };
  }

  const plan: SelectionPlan = { typeName: rootType.name, removals: [], fields: new Map() };
  const selections = visit(operation.selectionSet, rootType, plan, null, [], false);
  const nothingLeft = selections.length === 0;
  const rewritten: OperationDefinitionNode = {
    ...operation,
    selectionSet: { kind: Kind.SELECTION_SET, selections: nothingLeft ? [field(FILLER_KEY, '__typename')] : selections },
  };
  return {
    document: { kind: Kind.DOCUMENT, definitions: [rewritten] },
    plan,
    removedCount,
    touchesPatientData,
    nothingLeft,
    operation: rewritten,
    variablesUsed: [...variablesUsed].sort(),
  };
}

/** The same response key can be selected twice (fragments); the response merges them, so do the plans. */
function mergePlan(existing: SelectionPlan | null, next: SelectionPlan): SelectionPlan {
  if (!existing) return next;
  existing.removals.push(...next.removals);
  for (const [key, value] of next.fields) {
    const current = existing.fields.get(key);
    existing.fields.set(key, current ? { ...current, plan: value.plan ? mergePlan(current.plan, value.plan) : current.plan } : value);
  }
  return existing;
}
