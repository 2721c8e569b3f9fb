import { readFileSync } from 'node:fs';
import { Kind, parse, type DefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { COMPOSED_SUBGRAPHS } from '../schema/subgraphs.js';

/**
 * Chain partners learn the graph from its descriptions, in their own words first: every type,
 * field, argument, enum value and input field of every subgraph has one.
 */
function undocumented(definition: DefinitionNode): string[] {
  if (!('name' in definition) || !definition.name) return [];
  const name = definition.name.value;
  const missing: string[] = [];
  const isExtensionOrRoot = definition.kind.endsWith('Extension') || name === 'Query' || name === 'Mutation';
  if (!isExtensionOrRoot && !('description' in definition && definition.description)) missing.push(name);
  for (const field of 'fields' in definition ? (definition.fields ?? []) : []) {
    if (!field.description) missing.push(`${name}.${field.name.value}`);
    for (const argument of 'arguments' in field ? (field.arguments ?? []) : [])
      if (!argument.description) missing.push(`${name}.${field.name.value}(${argument.name.value})`);
  }
  for (const value of definition.kind === Kind.ENUM_TYPE_DEFINITION ? (definition.values ?? []) : [])
    if (!value.description) missing.push(`${name}.${value.name.value}`);
  return missing;
}

describe('schema descriptions', () => {
  for (const subgraph of COMPOSED_SUBGRAPHS) {
    it(`${subgraph.name}: everything is described`, () => {
      const document = parse(readFileSync(subgraph.schemaFile, 'utf8'));
      expect(document.definitions.flatMap(undocumented)).toEqual([]);
    });
  }
});
