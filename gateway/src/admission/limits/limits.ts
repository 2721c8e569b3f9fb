import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, Kind, visit, type DocumentNode, type ValidationContext, type ValidationRule } from 'graphql';
import type { GatewayContext } from '../context.js';
import { limitRejections } from '../../observability/metrics.js';
import type { LimitsConfig } from './config.js';

/** The error codes of the request limits, one per limit. */
export const LIMIT_CODES = [
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'TOO_MANY_TOKENS',
  'TOO_MANY_DIRECTIVES',
  'QUERY_TOO_COSTLY',
  'LIST_TOO_LARGE',
  'BATCH_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
] as const;
export type LimitCode = (typeof LIMIT_CODES)[number];

/** An operation refused by a limit; the code survives Apollo's wrapping of validation errors (see observability/exposure/errors.ts). */
export class LimitError extends GraphQLError {
  constructor(code: LimitCode, message: string) {
    // Refused before execution: a client error (400), also when thrown from a plugin hook (list size).
    super(message, { extensions: { code, http: { status: 400 } } });
  }
}

export interface RequestLimits {
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin<GatewayContext>[];
  /** graphql-js stops parsing past this many tokens, before building a document. */
  parseOptions: { maxTokens: number };
}

/**
 * Limits on the client's document, judged before anything else sees it: depth, aliases,
 * directives and cost with graphql-armor's validation rules (validation runs on the document as
 * sent, before field-level authorization rewrites it), tokens in graphql-js's parser, list sizes
 * with the variables at hand. Field suggestions ("Did you mean …") are masked when asked, with
 * armor's plugin. Each refusal is counted under its code.
 */
export function requestLimits(limits: LimitsConfig, options: { fieldSuggestions: boolean }): RequestLimits {
  const reject = (code: LimitCode) => (context: ValidationContext | null, error: GraphQLError) => {
    limitRejections.inc({ limit: code });
    context?.reportError(new LimitError(code, error.message.replace(/^Syntax Error: /, '')));
  };
  const armor = new ApolloArmor({
    maxDepth: { n: limits.depth, flattenFragments: true, propagateOnRejection: false, onReject: [reject('QUERY_TOO_DEEP')] },
    maxAliases: { n: limits.aliases, propagateOnRejection: false, onReject: [reject('TOO_MANY_ALIASES')] },
    maxDirectives: { n: limits.directives, propagateOnRejection: false, onReject: [reject('TOO_MANY_DIRECTIVES')] },
    costLimit: { maxCost: limits.cost, flattenFragments: true, propagateOnRejection: false, onReject: [reject('QUERY_TOO_COSTLY')] },
    // Tokens are limited by graphql-js's own parser option (parseOptions), which refuses before a document exists.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: !options.fieldSuggestions },
  }).protect();
  return {
    validationRules: armor.validationRules,
    plugins: [operationChosenPlugin(), ...(armor.plugins as ApolloServerPlugin<GatewayContext>[]), listSizePlugin(limits.listSize), tokenLimitCounter()],
    parseOptions: { maxTokens: limits.tokens },
  };
}

/**
 * A document with several operations and no (or an unknown) operationName names nothing to run.
 * Apollo Server leaves that to the executor, and @apollo/gateway's answers it with HTTP 500; it
 * is the client's mistake, so it is refused here as one (400), without echoing the name.
 */
function operationChosenPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (operation) return;
          const message = request.operationName
            ? 'No operation in the document has the given operationName.'
            : 'The document holds several operations; choose one with operationName.';
          throw new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
        },
      };
    },
  };
}

/** Refuses `first`/`last` above the list limit, literal or through a variable, before the operation is planned. */
function listSizePlugin(max: number): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        // Runs before the authorization plugin rewrites the document (plugins are called in order, synchronously up to their first await).
        async didResolveOperation({ document, request }) {
          const largest = largestListSize(document, request.variables ?? {});
          if (largest > max) {
            limitRejections.inc({ limit: 'LIST_TOO_LARGE' });
            throw new LimitError('LIST_TOO_LARGE', `A list may be asked for at most ${max} items at a time (first: ${largest}); page with \`after\`.`);
          }
        },
      };
    },
  };
}

/** Where a document asks for list sizes: literal values, and variables with their defaults. */
interface ListArguments {
  literal: number;
  variables: Map<string, number | undefined>;
}

/** Per parsed document (Apollo reuses the parsed document of a repeated query), so the walk happens once per document. */
const listArgumentsOf = new WeakMap<DocumentNode, ListArguments>();

function largestListSize(document: DocumentNode, variables: Record<string, unknown>): number {
  let found = listArgumentsOf.get(document);
  if (!found) {
    const defaults = new Map<string, number>();
    const result: ListArguments = { literal: 0, variables: new Map() };
    visit(document, {
      VariableDefinition(node) {
        if (node.defaultValue?.kind === Kind.INT) defaults.set(node.variable.name.value, Number(node.defaultValue.value));
      },
      Argument(node) {
        if (node.name.value !== 'first' && node.name.value !== 'last') return;
        if (node.value.kind === Kind.INT) result.literal = Math.max(result.literal, Number(node.value.value));
        if (node.value.kind === Kind.VARIABLE) result.variables.set(node.value.name.value, undefined);
      },
    });
    for (const name of result.variables.keys()) result.variables.set(name, defaults.get(name));
    listArgumentsOf.set(document, (found = result));
  }
  let largest = found.literal;
  for (const [name, fallback] of found.variables) {
    const value = variables[name] ?? fallback;
    if (typeof value === 'number' && Number.isFinite(value)) largest = Math.max(largest, value);
  }
  return largest;
}

/** Counts documents refused by the parser's token limit (graphql-js reports them as a syntax error). */
function tokenLimitCounter(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async parsingDidStart() {
          return async (error) => {
            if (error && isTokenLimitError(error)) limitRejections.inc({ limit: 'TOO_MANY_TOKENS' });
          };
        },
      };
    },
  };
}

export function isTokenLimitError(error: Error): boolean {
  // graphql-js words it "more that N tokens" (sic); both spellings are accepted.
  return /Document contains more tha[nt] \d+ tokens/.test(error.message);
}
