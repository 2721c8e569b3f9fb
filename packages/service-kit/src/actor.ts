import type { Principal } from './principal.js';

/**
 * The person on whose behalf a change is recorded (author of CV entries, decider of placements),
 * in the shape the subgraphs store: the verified principal's subject, organisation and role.
 */
export interface Actor {
  userId: string;
  organisationId: string;
  role: string;
}

export function actorOf(principal: Principal): Actor {
  return { userId: principal.subject, organisationId: principal.organisationId, role: principal.role };
}
