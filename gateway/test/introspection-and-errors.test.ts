/**
 * Introspection through the authorization rewrite (the explorer's Docs pane, autocomplete and
 * query builder depend on it) and the one path to a 5xx: logged as an error with its cause,
 * answered as INTERNAL_SERVER_ERROR with the request id.
 */
import { grantsFor, loadAccessPolicy, readSchemaPolicies, redirectLogs } from '@ketengraph/service-kit';
import { buildSchema, getIntrospectionQuery, GraphQLError, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { rewriteOperation } from '../src/authorization/rewrite.js';
import { maskedErrorsPlugin } from '../src/observability/exposure/errors.js';

const sdl = `
  type Patient { id: ID! name: String @policy(policies: [["identity"]]) }
  type Query { patient(id: ID!): Patient }
`;
const schema = buildSchema(`directive @policy(policies: [[String!]!]!) on FIELD_DEFINITION | OBJECT\n${sdl}`);
const policies = readSchemaPolicies(sdl);
const grants = grantsFor(loadAccessPolicy(), { subject: 's', organisationId: 'igj', role: 'inspectie', scopes: [], purpose: null });

describe('the authorization rewrite and introspection', () => {
  it('keeps the standard introspection query valid: fragments used inside __schema are inlined with the rest', () => {
    const rewrite = rewriteOperation(schema, parse(getIntrospectionQuery()), 'IntrospectionQuery', policies, grants)!;
    expect(rewrite.document.definitions.map((d) => d.kind)).toEqual(['OperationDefinition']);
    expect(validate(schema, rewrite.document)).toEqual([]);
  });

  it('inlines fragments under __type next to fields it withholds', () => {
    const document = parse(`
      query Q { patient(id: "1") { id name } __type(name: "Patient") { ...T } }
      fragment T on __Type { name fields { ...F } }
      fragment F on __Field { name type { name } }`);
    const rewrite = rewriteOperation(schema, document, 'Q', policies, grants)!;
    expect(validate(schema, rewrite.document)).toEqual([]);
    expect(rewrite.removedCount).toBe(1);
  });
});

describe('a 5xx from Apollo', () => {
  async function respond(status: number, errors: GraphQLError[]) {
    const lines: Record<string, unknown>[] = [];
    const restore = redirectLogs({ write: (line: string) => void lines.push(JSON.parse(line)) });
    try {
      const listener = (await maskedErrorsPlugin().requestDidStart!({} as never))!;
      const response = { http: { status, headers: new Map() }, body: { kind: 'single' as const, singleResult: { errors: errors.map((e) => e.toJSON()) } } };
      const requestContext = { response, errors, contextValue: { requestId: 'req-42' }, operationName: 'Op' } as never;
      await listener.didEncounterErrors!(requestContext);
      await listener.willSendResponse!(requestContext);
      return { body: response.body.singleResult, lines };
    } finally {
      restore();
    }
  }

  it('is logged as an error with its cause and answered INTERNAL_SERVER_ERROR with the request id, whatever code it carried', async () => {
    const thrown = new GraphQLError('Cannot find fragment name "FullType" (patient 999912345)', { extensions: { code: 'INVALID_GRAPHQL' } });
    const { body, lines } = await respond(500, [thrown]);
    expect(body.errors).toEqual([{ message: 'Internal server error (request req-42).', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-42' } }]);
    const logged = lines.filter((line) => line.level === 'error');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      requestId: 'req-42',
      operationName: 'Op',
      status: 500,
      code: 'INVALID_GRAPHQL',
      error: 'GraphQLError',
      msg: 'internal error',
    });
    expect(JSON.stringify(lines)).not.toContain('999912345');
  });

  it('leaves a deliberate refusal (4xx, or 200 with a code) as it is', async () => {
    const refusal = new GraphQLError('Too deep.', { extensions: { code: 'QUERY_TOO_DEEP' } });
    for (const status of [400, 200]) {
      const { body, lines } = await respond(status, [refusal]);
      expect(body.errors).toEqual([{ message: 'Too deep.', extensions: { code: 'QUERY_TOO_DEEP' } }]);
      expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    }
  });
});
