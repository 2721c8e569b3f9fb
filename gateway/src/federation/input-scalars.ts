import { INPUT_SCALARS } from '@ketengraph/service-kit';
import {
  coerceInputValue,
  GraphQLError,
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
 * the gateway forwards what the caller wrote and the subgraph parses it again.
 */
export function parseInputScalars(schema: GraphQLSchema): void {
  for (const [name, kit] of Object.entries(INPUT_SCALARS)) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLScalarType)) continue;
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
