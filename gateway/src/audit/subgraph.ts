import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateScalar, DateTimeScalar, headerValue, sendJson } from '@ketengraph/service-kit';
import { GraphQLError, parse, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { AuditRecord } from './chain.js';
import type { AuditLog } from './log.js';

/** Where the gateway serves the audit subgraph (schema/subgraphs.ts routes composition there). */
export const AUDIT_SUBGRAPH_PATH = '/subgraphs/audit/graphql';
export const AUDIT_SCHEMA_FILE = new URL('./schema.graphql', import.meta.url);

export interface AuditSubgraph {
  path: string;
  /** The executable subgraph schema; its resolvers need no context, so `LocalGraphQLDataSource` can run it in-process too. */
  schema: GraphQLSchema;
  /** For the kit's `routes` option: answers requests to `path`, returns false for any other path. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  stop(): Promise<void>;
}

const upper = (value: string) => value.toUpperCase();

const resolvers = (log: AuditLog): GraphQLResolverMap<unknown> => ({
  Date: DateScalar,
  DateTime: DateTimeScalar,
  Query: {
    auditTrail: (_parent, args: { patientId: string; from: Date; to: Date; first?: number | null; after?: string | null }) =>
      log.trail(args.patientId, args.from, args.to, args.first, args.after),
  },
  AuditRecord: {
    action: (record: AuditRecord) => upper(record.action),
    outcome: (record: AuditRecord) => upper(record.outcome),
  },
});

/**
 * The fifth subgraph, `audit`: the privacy officer's read access to the log, served by the
 * gateway process itself so the log's database has one owner. Who may call it is decided by the
 * gateway's authorization layer (the policy's `audit` category), not here.
 */
export interface AuditSubgraphOptions {
  /**
   * Checks that a request to the HTTP route comes from the gateway's own federation (e.g. the
   * kit's `gatewayTokenAuthenticator(keys, policy)`); rejecting answers 401. Required because the
   * route shares the gateway's public port: without it a caller could skip the gateway's
   * authentication and authorization by posting to the path directly.
   */
  authenticate: (request: IncomingMessage) => Promise<unknown>;
  maxBodyBytes?: number;
}

export async function createAuditSubgraph(log: AuditLog, options: AuditSubgraphOptions): Promise<AuditSubgraph> {
  const maxBodyBytes = options.maxBodyBytes ?? 100_000;
  const schema = buildSubgraphSchema({ typeDefs: parse(readFileSync(AUDIT_SCHEMA_FILE, 'utf8')), resolvers: resolvers(log) });
  const apollo = new ApolloServer({
    schema,
    includeStacktraceInErrorResponses: false,
    formatError: maskUnexpectedErrors,
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  return {
    path: AUDIT_SUBGRAPH_PATH,
    schema,
    stop: () => apollo.stop(),
    handle: async (request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== AUDIT_SUBGRAPH_PATH) return false;
      if (!(await options.authenticate(request).then(() => true, () => false))) {
        sendJson(response, 401, { errors: [{ message: 'Authentication required.', extensions: { code: 'UNAUTHENTICATED' } }] });
        return true;
      }
      const requestId = headerValue(request, 'x-request-id');
      if (requestId) response.setHeader('x-request-id', requestId);
      let body: unknown;
      if (request.method === 'POST') {
        const raw = await readBody(request, maxBodyBytes);
        if (raw === undefined) {
          sendJson(response, 413, { errors: [{ message: `Request body exceeds ${maxBodyBytes} bytes.`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
          return true;
        }
        try {
          body = raw.length ? JSON.parse(raw) : {};
        } catch {
          sendJson(response, 400, { errors: [{ message: 'Request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
          return true;
        }
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(request.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: request.method ?? 'GET', headers, search: url.search, body },
        context: async () => ({}),
      });
      for (const [key, value] of result.headers) response.setHeader(key, value);
      response.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        response.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) response.write(chunk);
        response.end();
      }
      return true;
    },
  };
}

function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

const KNOWN_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE']);

/** As in the kit's subgraphs: deliberate errors pass, anything else becomes INTERNAL_SERVER_ERROR. */
function maskUnexpectedErrors(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : error;
  const code = formatted.extensions?.code;
  const deliberate = original === undefined || original instanceof GraphQLError || (typeof code === 'string' && KNOWN_CODES.has(code));
  if (deliberate && code !== 'INTERNAL_SERVER_ERROR') return formatted;
  const name = original instanceof Error ? original.name : 'UnknownError';
  console.error(JSON.stringify({ level: 'error', subgraph: 'audit', msg: 'unexpected resolver error', error: name, path: formatted.path }));
  return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
