import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { DateScalar, DateTimeScalar } from '@ketengraph/service-kit';
import { parse, type GraphQLSchema } from 'graphql';
import type { AuditRecord } from './chain.js';
import type { AuditLog } from './log.js';

export const AUDIT_SCHEMA_FILE = new URL('./schema.graphql', import.meta.url);

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
 * The fifth subgraph, `audit`: the privacy officer's read access to the log. The gateway runs it
 * in-process (a LocalGraphQLDataSource), so the log's database has one owner and no route is
 * exposed around the gateway's authentication; who may call it is decided by the gateway's
 * authorization layer (the policy's `audit` category).
 */
export function createAuditSchema(log: AuditLog): GraphQLSchema {
  return buildSubgraphSchema({ typeDefs: parse(readFileSync(AUDIT_SCHEMA_FILE, 'utf8')), resolvers: resolvers(log) });
}
