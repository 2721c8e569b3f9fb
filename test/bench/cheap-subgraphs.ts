/**
 * The four subgraphs' schemas (their SDL files) served from memory, for measuring a gateway's own
 * cost: every field answers a value made up from its type, lists and connections have two items,
 * ids are derived from the patient asked for (so the patient-bound objects name their patient, as
 * the real subgraphs do, and the gateway's access log records as many patients), and an entity is
 * whatever its representation says. One process serves all four (`CHEAP_PORTS`: four ports, in the
 * order of `SUBGRAPHS`); documents are parsed and validated once. No database, no authentication.
 */
import { createServer } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  execute,
  getNamedType,
  getNullableType,
  isAbstractType,
  isEnumType,
  isListType,
  isObjectType,
  isScalarType,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { readSubgraphSdl, SUBGRAPHS } from '../../schema/subgraphs.js';

const ITEMS = 2;
const SCALARS: Record<string, unknown> = {
  ID: 'x',
  String: 'tekst',
  Int: 2,
  Float: 0.5,
  Boolean: true,
  Date: '2024-01-15',
  DateTime: '2024-01-15T10:00:00.000Z',
  BSN: '123456782',
};

type Made = Record<string, unknown> & { id?: string };

/** The patient an object belongs to: the prefix of its id (ids below a patient are `<patient>~<path>`, unique per place). */
const patientOf = (parent: Made | undefined): string => String(parent?.id ?? 'patient').split('~')[0]!;

function made(type: GraphQLOutputType, schema: GraphQLSchema, parent: Made | undefined, name: string, index: number): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return Array.from({ length: ITEMS }, (_, i) => made(nullable.ofType, schema, parent, name, i));
  const named = getNamedType(nullable);
  if (isScalarType(named)) {
    if (named.name === 'ID') return name === 'patientId' ? patientOf(parent) : `${parent?.id ?? 'x'}~${name}${index}`;
    return named.name === 'Int' && name === 'totalCount' ? ITEMS : (SCALARS[named.name] ?? 'x');
  }
  if (isEnumType(named)) return named.getValues()[0]!.value;
  const objectType = isAbstractType(named) ? schema.getPossibleTypes(named)[index % schema.getPossibleTypes(named).length]! : named;
  if (!isObjectType(objectType)) return null;
  // A patient reached from a patient-bound object is that object's patient.
  const id = objectType.name === 'Patient' ? patientOf(parent) : `${parent?.id ?? 'x'}~${name}${index}`;
  return { __typename: objectType.name, id };
}

const resolveField: GraphQLFieldResolver<Made, unknown> = (parent, args, _context, info) => {
  const own = parent?.[info.fieldName];
  if (own !== undefined && info.fieldName !== '__typename') return own;
  if (info.fieldName === 'patient' && typeof args.id === 'string') return { __typename: 'Patient', id: args.id };
  return made(info.returnType, info.schema, parent, info.fieldName, 0);
};

function serve(schema: GraphQLSchema, port: number) {
  const documents = new Map<string, DocumentNode>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        query?: string;
        variables?: Record<string, unknown>;
        operationName?: string;
      };
      let document = documents.get(body.query ?? '');
      if (!document) {
        document = parse(body.query ?? '{ __typename }');
        const errors = validate(schema, document);
        if (errors.length) {
          response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: errors.map((e) => ({ message: e.message })) }));
          return;
        }
        documents.set(body.query ?? '', document);
      }
      const result = await execute({
        schema,
        document,
        variableValues: body.variables,
        operationName: body.operationName,
        fieldResolver: resolveField as never,
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1');
  return server;
}

const ports = (process.env.CHEAP_PORTS ?? '').split(',').map(Number);
if (ports.length !== SUBGRAPHS.length || ports.some((p) => !Number.isInteger(p))) throw new Error(`CHEAP_PORTS: ${SUBGRAPHS.length} ports, comma-separated`);
const servers = SUBGRAPHS.map((entry, i) => {
  const schema = buildSubgraphSchema({ typeDefs: parse(readSubgraphSdl(entry)) });
  // Entities: the representation is the object (its id carries the patient).
  return serve(schema, ports[i]!);
});
console.log(JSON.stringify({ level: 'info', service: 'cheap-subgraphs', ports }));
process.on('SIGTERM', () => {
  for (const server of servers) server.close();
  process.exit(0);
});
