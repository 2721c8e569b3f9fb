/**
 * The explorer's example operations are valid against the composed supergraph (the API schema
 * clients see). An example whose root field the graph does not have yet is reported as skipped
 * and validated as soon as the field is composed in.
 */
import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import { parse, validate, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_SOURCES, readExample } from '../gateway/src/explorer/examples.js';
import { withoutSecurityPurpose } from '../gateway/src/federation/gateway.js';
import { SUPERGRAPH_FILE } from '../schema/subgraphs.js';

const schema: GraphQLSchema = Supergraph.build(withoutSecurityPurpose(readFileSync(SUPERGRAPH_FILE, 'utf8'))).apiSchema().toGraphQLJSSchema();

/** Whether the graph has the root fields the example's operation starts from. */
function rootFieldsExist(query: string): boolean {
  const operation = parse(query).definitions.find((definition): definition is OperationDefinitionNode => definition.kind === 'OperationDefinition')!;
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const fields = root?.getFields() ?? {};
  return operation.selectionSet.selections.every((selection) => selection.kind !== 'Field' || selection.name.value in fields);
}

describe('explorer examples', () => {
  it('cover the whole trajectory, free capacity, the placement subscription and webhook registration', () => {
    expect(EXAMPLE_SOURCES.map((source) => source.name)).toEqual(['PatientTrajectory', 'FreeCapacity', 'PlacementChanged', 'RegisterWebhook']);
  });

  for (const source of EXAMPLE_SOURCES) {
    const example = readExample(source);
    it.runIf(rootFieldsExist(example.query))(`${source.name} is valid against the supergraph, with variables of the declared types`, () => {
      const document = parse(example.query);
      expect(validate(schema, document).map((error) => error.message)).toEqual([]);
      // Every variable the example sets is declared by its operation, and every required one is set.
      const operation = document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === 'OperationDefinition')!;
      const declared = new Map((operation.variableDefinitions ?? []).map((definition) => [definition.variable.name.value, definition.type.kind === 'NonNullType']));
      const given = Object.keys(JSON.parse(example.variables) as Record<string, unknown>);
      expect(given.filter((name) => !declared.has(name))).toEqual([]);
      expect([...declared].filter(([name, required]) => required && !given.includes(name))).toEqual([]);
    });
  }

  it('the trajectory and capacity examples exist in the graph today (only subscription and webhook examples may wait for their fields)', () => {
    for (const name of ['PatientTrajectory', 'FreeCapacity']) expect(rootFieldsExist(readExample(EXAMPLE_SOURCES.find((source) => source.name === name)!).query)).toBe(true);
  });
});
