import { INPUT_SCALARS } from '@ketengraph/service-kit';
import {
  coerceInputValue,
  GraphQLError,
  Kind,
  parse,
  isInputType,
  GraphQLScalarType,
  typeFromAST,
  valueFromASTUntyped,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../admission/context.js';
import { GATEWAY_SUBGRAPHS, SUBGRAPHS } from '../../../schema/subgraphs.js';

/** A value the caller wrote for a kit scalar (Date, DateTime) that the scalar refuses. */
export class ScalarValueError extends Error {
  override name = 'ScalarValueError';
  readonly code = 'BAD_USER_INPUT';
}

/**
 * The API schema @apollo/gateway builds from the supergraph knows Date and DateTime only by name
 * and accepts any value for them, so an impossible date travelled to the subgraph and was
 * refused there (or hit its SQL). This gives the gateway's own Date and DateTime the kit's
 * parsing, the same the subgraphs use: literals are refused in validation, variables before
 * planning, with BAD_USER_INPUT at the argument. The values are only checked, not converted:
 * the gateway forwards what the caller wrote and the subgraph parses it again. Only scalars that
 * one of ketengraph's subgraphs defines are the kit's: another chain's supergraph may have a Date
 * of its own meaning, which its subgraphs judge (as @apollo/gateway leaves it).
 */
export function parseInputScalars(schema: GraphQLSchema, supergraphSdl: string): void {
  const ours = kitScalarsOf(supergraphSdl);
  for (const [name, kit] of Object.entries(INPUT_SCALARS)) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLScalarType) || !ours.has(name)) continue;
    const check = (value: unknown) => {
      try {
        kit.parseValue(value);
      } catch (error) {
        throw new ScalarValueError(error instanceof Error ? error.message : `Not a valid ${name}.`);
      }
      return value;
    };
    type.parseValue = check;
    type.parseLiteral = (node: ValueNode, variables?: Record<string, unknown> | null) => check(valueFromASTUntyped(node, variables));
  }
}

const KETENGRAPH_SUBGRAPHS = new Set([...SUBGRAPHS, ...GATEWAY_SUBGRAPHS].map(({ name }) => name));

/** The kit's scalars (by name) that the supergraph joins to at least one of ketengraph's subgraphs. */
function kitScalarsOf(supergraphSdl: string): Set<string> {
  const document = parse(supergraphSdl);
  const graphs = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const name = value.directives?.find((d) => d.name.value === 'join__graph')?.arguments?.find((a) => a.name.value === 'name')?.value;
      if (name?.kind === Kind.STRING) graphs.set(value.name.value, name.value);
    }
  }
  const ours = new Set<string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCALAR_TYPE_DEFINITION || !Object.hasOwn(INPUT_SCALARS, definition.name.value)) continue;
    const joined = (definition.directives ?? []).filter((d) => d.name.value === 'join__type');
    const graphOf = (d: (typeof joined)[number]) => d.arguments?.find((a) => a.name.value === 'graph')?.value;
    if (
      joined.some((d) => {
        const graph = graphOf(d);
        return graph?.kind === Kind.ENUM && KETENGRAPH_SUBGRAPHS.has(graphs.get(graph.value) ?? '');
      })
    )
      ours.add(definition.name.value);
  }
  return ours;
}

/**
 * Coerces the operation's variables before anything is planned, so a value that does not fit its
 * type is BAD_USER_INPUT (HTTP 400) naming the variable. @apollo/gateway checks them too, but
 * its error carries no code (the client would see INTERNAL_SERVER_ERROR) and quotes the value,
 * which may be personal data; this message never does.
 */
export function variableValuesPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, schema, request }) {
          const error = operation && invalidVariable(schema, operation, request.variables ?? {});
          if (error) throw error;
        },
      };
    },
  };
}

function invalidVariable(schema: GraphQLSchema, operation: OperationDefinitionNode, values: Record<string, unknown>): GraphQLError | undefined {
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type as never);
    if (!type || !isInputType(type)) continue; // validation already refused it
    const refuse = (reason: string, at = name) =>
      new GraphQLError(`Variable "$${name}"${at === name ? '' : ` at "${at}"`}: ${reason}`, {
        nodes: definition,
        extensions: { code: 'BAD_USER_INPUT', field: name, http: { status: 400 } },
      });
    if (!Object.hasOwn(values, name)) {
      if (!definition.defaultValue && type.toString().endsWith('!')) return refuse(`a value of type ${type.toString()} is required.`);
      continue;
    }
    if (values[name] === null && type.toString().endsWith('!')) return refuse(`a value of type ${type.toString()} is required, not null.`);
    let first: GraphQLError | undefined;
    coerceInputValue(values[name], type, (path, _invalid, error) => {
      if (first) return;
      const at = [name, ...path]
        .map((part) => (typeof part === 'number' ? `[${part}]` : part))
        .join('.')
        .replace(/\.\[/g, '[');
      first = refuse(reasonOf(error), at);
    });
    if (first) return first;
  }
  return undefined;
}

/** Why a value was refused, without repeating the value (graphql-js quotes it; it may be personal data). */
function reasonOf(error: GraphQLError): string {
  if (error.originalError instanceof ScalarValueError) return error.originalError.message;
  // graphql-js's messages name types and fields; those that quote the value start with these.
  const expected = /^(Expected type "[^"]+")/.exec(error.message) ?? /^(Int|Float|String|Boolean|ID) cannot represent/.exec(error.message);
  if (expected) return expected[1]!.startsWith('Expected') ? `${expected[1]}.` : `not a valid ${expected[1]}.`;
  if (/^Value .* does not exist in "([^"]+)" enum/.test(error.message)) return `not a value of the enum ${/"([^"]+)" enum/.exec(error.message)![1]}.`;
  if (/^Field "[^"]+" (of required type "[^"]+" was not provided|is not defined by type "[^"]+")\.?$/.test(error.message))
    return error.message.split('Did you mean')[0]!.trim();
  return "the value does not match the variable's type.";
}
