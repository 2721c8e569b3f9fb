/**
 * Whether a principal under a relationship rule (a provider: own patients; probation: own
 * supervisees) may see a placement change at all, asked of the subgraph that holds the
 * relationship before the change is resolved. A change the subscriber may not see is then skipped
 * without a federated query and without an access-log record, instead of being executed and
 * denied for every unrelated subscriber; plaatsing still refuses it on its own if asked.
 */
import { grantsFor, remoteRelationshipLookup, type AccessPolicy, type Principal, type RelationshipKind, type SchemaPolicies } from '@ketengraph/service-kit';
import type { SubgraphTokens } from '../federation/subgraph-tokens.js';

/** The related patients among those asked, under a relationship rule; null when no relationship rule applies (all or nothing is decided by the query itself). */
export type RelationshipCheck = (principal: Principal, patientIds: readonly string[]) => Promise<ReadonlySet<string> | null>;

export interface RelationshipCheckOptions {
  policy: AccessPolicy;
  /** The policies of the supergraph being served (they follow reloads). */
  policies: () => SchemaPolicies;
  /** Where each relationship is held: own patients at plaatsing, own supervisees at indicatiestelling. */
  sources: Record<RelationshipKind, string>;
  tokens: SubgraphTokens;
}

export function createRelationshipCheck(options: RelationshipCheckOptions): RelationshipCheck {
  return async (principal, patientIds) => {
    // A change carries the categories of its type; every field of it is decided alike.
    const requirement = options.policies().field('PlacementChange', 'cursor', null);
    if (!requirement) return null;
    const grants = grantsFor(options.policy, principal);
    if (grants.decide(requirement) !== 'relationship') return null;
    const kind = grants.relationship(requirement)!;
    const token = await options.tokens.tokenFor(principal);
    // One question for all the changes of a batch.
    return new Set(await remoteRelationshipLookup(kind, options.sources[kind], () => token)(principal.organisationId, [...new Set(patientIds)]));
  };
}
