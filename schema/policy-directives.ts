/**
 * Writes the access policy into a subgraph's SDL, so `schema/access-policy.json` stays the one
 * place it is maintained: data categories as `@policy` directives (a field that may be withheld
 * is made nullable: withholding it must not null its parent), and the write scope of the
 * subgraph's mutations as `@requiresScopes`. Run by `npm run policy`; a test fails when an SDL
 * file differs from what this produces.
 */
import { Kind, parse, print, type ConstDirectiveNode, type FieldDefinitionNode, type TypeNode } from 'graphql';
import type { AccessPolicy } from '../packages/service-kit/src/principal.js';

interface Edit {
  start: number;
  end: number;
  text: string;
}

const TYPE_KINDS = new Set<string>([Kind.OBJECT_TYPE_DEFINITION, Kind.OBJECT_TYPE_EXTENSION, Kind.INTERFACE_TYPE_DEFINITION, Kind.INTERFACE_TYPE_EXTENSION]);

function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}

function policyText(categories: string[]): string {
  return `@policy(policies: [[${categories.map((c) => JSON.stringify(c)).join(', ')}]])`;
}

const GENERATED = new Set(['policy', 'requiresScopes']);

export function applyPolicyDirectives(
  sdl: string,
  policy: Pick<AccessPolicy, 'fields'> & Partial<Pick<AccessPolicy, 'mutationScopes'>>,
  subgraph?: string,
): string {
  const document = parse(sdl);
  const edits: Edit[] = [];
  let used = false;
  let scopesUsed = false;
  const mutationScope = subgraph ? policy.mutationScopes?.[subgraph] : undefined;
  const typeLevel = new Map(Object.entries(policy.fields).filter(([coordinate]) => !coordinate.includes('.')));

  for (const definition of document.definitions) {
    if (!TYPE_KINDS.has(definition.kind)) continue;
    const type = definition as {
      name: { value: string; loc?: { end: number } };
      directives?: readonly ConstDirectiveNode[];
      fields?: readonly FieldDefinitionNode[];
      interfaces?: readonly { loc?: { end: number } }[];
    };
    const typeName = type.name.value;
    // Type-level category: on the type itself.
    const typeCategories = typeLevel.get(typeName);
    for (const directive of type.directives ?? []) {
      if (directive.name.value === 'policy') edits.push({ start: directive.loc!.start - 1, end: directive.loc!.end, text: '' });
    }
    if (typeCategories) {
      const anchor =
        [...(type.directives ?? [])].filter((d) => d.name.value !== 'policy').at(-1)?.loc?.end ?? type.interfaces?.at(-1)?.loc?.end ?? type.name.loc!.end;
      edits.push({ start: anchor, end: anchor, text: ` ${policyText(typeCategories)}` });
      used = true;
    }
    for (const field of type.fields ?? []) {
      const categories = policy.fields[`${typeName}.${field.name.value}`];
      for (const directive of field.directives ?? []) {
        if (GENERATED.has(directive.name.value)) edits.push({ start: directive.loc!.start - 1, end: directive.loc!.end, text: '' });
      }
      // An internal (@inaccessible) mutation is guarded by its own internal scope in the resolver, not the subgraph's write scope.
      const scoped = typeName === 'Mutation' && mutationScope && !field.directives?.some((d) => d.name.value === 'inaccessible');
      if (scoped) {
        edits.push({ start: field.type.loc!.end, end: field.type.loc!.end, text: ` @requiresScopes(scopes: [[${JSON.stringify(mutationScope)}]])` });
        scopesUsed = true;
      }
      const withheldByReturnType = typeLevel.has(namedType(field.type));
      if (categories) {
        edits.push({ start: field.type.loc!.end, end: field.type.loc!.end, text: ` ${policyText(categories)}` });
        used = true;
      }
      // A mutation refused for a missing scope answers null in its place, like a withheld field.
      if ((categories || withheldByReturnType || scoped) && field.type.kind === Kind.NON_NULL_TYPE) {
        edits.push({ start: field.type.loc!.start, end: field.type.loc!.end, text: print(field.type.type) });
      }
    }
  }

  // The federation link imports @policy exactly when the SDL uses it.
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_EXTENSION && definition.kind !== Kind.SCHEMA_DEFINITION) continue;
    for (const directive of definition.directives ?? []) {
      const url = directive.arguments?.find((a) => a.name.value === 'url');
      const imports = directive.arguments?.find((a) => a.name.value === 'import');
      if (
        directive.name.value !== 'link' ||
        !url ||
        url.value.kind !== Kind.STRING ||
        !url.value.value.includes('specs.apollo.dev/federation') ||
        !imports ||
        imports.value.kind !== Kind.LIST
      )
        continue;
      const names = imports.value.values
        .map((v) => (v.kind === Kind.STRING ? v.value : ''))
        .filter((name) => name && name !== '@policy' && name !== '@requiresScopes');
      if (used) names.push('@policy');
      if (scopesUsed) names.push('@requiresScopes');
      edits.push({ start: imports.value.loc!.start, end: imports.value.loc!.end, text: `[${names.map((n) => JSON.stringify(n)).join(', ')}]` });
    }
  }

  edits.sort((a, b) => b.start - a.start || b.end - a.end);
  let result = sdl;
  for (const edit of edits) result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  return result;
}
