import type { ApolloServerPlugin } from '@apollo/server';
import { errorDetails, redactMessage, serviceLogger } from '@ketengraph/service-kit';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { GatewayContext } from '../../admission/context.js';
import { ScalarValueError } from '../../federation/input-scalars.js';
import { isTokenLimitError, LimitError } from '../../admission/limits/limits.js';

const log = serviceLogger('gateway');
const INTERNAL = 'INTERNAL_SERVER_ERROR';

/**
 * Apollo's formatError for the gateway: a limit keeps its own code (Apollo wraps validation
 * errors as GRAPHQL_VALIDATION_FAILED, parse errors as GRAPHQL_PARSE_FAILED), and an error without
 * a code, or an internal one, reaches the client as INTERNAL_SERVER_ERROR without its message —
 * the details go to the log (see maskedErrorsPlugin, which adds the request id).
 */
export function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  if (original instanceof LimitError) return { ...formatted, extensions: { ...formatted.extensions, code: original.extensions.code } };
  if (formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' && isTokenLimitError(original ?? (error as Error))) {
    return { message: formatted.message.replace(/^Syntax Error: /, ''), extensions: { code: 'TOO_MANY_TOKENS' } };
  }
  // A literal the Date or DateTime scalar refuses (graphql-js reports it as a validation error quoting the value).
  if (original instanceof ScalarValueError) {
    return { message: original.message, ...(formatted.locations ? { locations: formatted.locations } : {}), extensions: { code: original.code } };
  }
  const code = formatted.extensions?.code;
  // DOWNSTREAM_SERVICE_ERROR is what @apollo/gateway calls a subgraph error that came without a code: unplanned, so masked too.
  if (typeof code === 'string' && code !== INTERNAL && code !== 'DOWNSTREAM_SERVICE_ERROR') return formatted;
  return { message: 'Internal server error.', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: INTERNAL } };
}

const unplanned = (code: unknown) => typeof code !== 'string' || code === INTERNAL || code === 'DOWNSTREAM_SERVICE_ERROR';

/**
 * The one way an operation ends in a 5xx: logged as an error with its cause (message redacted,
 * code, subgraph, path, class, stack) and answered as INTERNAL_SERVER_ERROR with the request
 * id to quote to support. That covers errors without a code and every error Apollo answers with
 * 500 (the executor or the query planner threw, whatever code it gave).
 */
export function maskedErrorsPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (!unplanned(code)) continue;
            // From a subgraph the original is its JSON error; from the gateway, the thrown error. The
            // message (redacted) and the code it came with are what the request id must lead to.
            const details = errorDetails(error.originalError ?? error);
            log.error(
              {
                requestId: contextValue.requestId,
                operationName,
                path: error.path,
                subgraph: error.extensions?.serviceName ?? 'gateway',
                ...details,
                code: details.code ?? (typeof code === 'string' ? code : 'none'),
                message: details.message ?? redactMessage(error.message),
              },
              'internal error',
            );
          }
        },
        async willSendResponse({ response, contextValue, errors, operationName }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const status = response.http.status ?? 200;
          if (status >= 500) {
            // Apollo's answer when execution threw: the errors were not planned, whatever code they carry.
            for (const error of errors ?? []) {
              if (unplanned(error.extensions?.code)) continue; // logged above
              log.error(
                { requestId: contextValue.requestId, operationName, status, code: error.extensions?.code, ...errorDetails(error.originalError ?? error) },
                'internal error',
              );
            }
            result.errors = (result.errors ?? [{ message: '' }]).map(({ path }) => ({
              message: '',
              ...(path ? { path } : {}),
              extensions: { code: INTERNAL },
            }));
          }
          if (!result.errors?.some((e) => e.extensions?.code === INTERNAL)) return;
          const { requestId } = contextValue;
          result.errors = result.errors.map((e) =>
            e.extensions?.code === INTERNAL
              ? { message: `Internal server error (request ${requestId}).`, ...(e.path ? { path: e.path } : {}), extensions: { code: INTERNAL, requestId } }
              : e,
          );
        },
      };
    },
  };
}
