/**
 * The explorer's example operations are valid against the composed supergraph (the API schema
 * clients see), with the variables they are offered with.
 */
import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import { GraphQLSchema, Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_SOURCES, examplesFor, readExample } from '@ketengraph/explorer';
import { withoutSecurityPurpose } from '../gateway/src/federation/gateway.js';
import { loadTrustedDocuments, MANIFEST_FILE } from '../gateway/src/admission/trusted-documents/documents.js';
import { SUPERGRAPH_FILE } from '../schema/subgraphs.js';

const schema: GraphQLSchema = Supergraph.build(withoutSecurityPurpose(readFileSync(SUPERGRAPH_FILE, 'utf8')))
  .apiSchema()
  .toGraphQLJSSchema();

describe('explorer examples', () => {
  it('cover the whole trajectory, free capacity, the placement subscription and webhook registration', () => {
    expect(EXAMPLE_SOURCES.map((source) => source.name)).toEqual(['PatientTrajectory', 'FreeCapacity', 'PlacementChanged', 'RegisterWebhook']);
    expect(examplesFor(schema).map((example) => example.name)).toEqual(EXAMPLE_SOURCES.map((source) => source.name));
  });

  for (const source of EXAMPLE_SOURCES) {
    it(`${source.name} is valid against the supergraph, with the variables its operation declares`, () => {
      const example = readExample(source);
      const document = parse(example.query);
      expect(validate(schema, document).map((error) => error.message)).toEqual([]);
      const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
      expect(operations.map((operation) => operation.name?.value)).toEqual([source.name]);
      // Every variable the example sets is declared, and every required one is set.
      const declared = new Map(
        (operations[0]!.variableDefinitions ?? []).map((definition) => [definition.variable.name.value, definition.type.kind === Kind.NON_NULL_TYPE]),
      );
      const given = Object.keys(JSON.parse(example.variables) as Record<string, unknown>);
      expect(given.filter((name) => !declared.has(name))).toEqual([]);
      expect([...declared].filter(([name, required]) => required && !given.includes(name)).map(([name]) => name)).toEqual([]);
    });
  }

  it('are sent exactly as registered trusted documents, so they run where only those are accepted (production)', () => {
    const trusted = new Set(loadTrustedDocuments(MANIFEST_FILE, true).values());
    for (const source of EXAMPLE_SOURCES) expect(trusted.has(readExample(source).query), source.name).toBe(true);
  });

  it('leaves out an example the served graph cannot run', () => {
    const queriesOnly = new GraphQLSchema({ query: schema.getQueryType()! });
    expect(examplesFor(queriesOnly).map((example) => example.name)).toEqual(['PatientTrajectory', 'FreeCapacity']);
  });
});
