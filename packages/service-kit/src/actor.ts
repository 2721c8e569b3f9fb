import type { IncomingMessage } from 'node:http';

/**
 * The person on whose behalf a request runs (author of CV entries, decider of placements).
 * The gateway forwards it in `x-ketengraph-actor` as base64url JSON.
 */
export interface Actor {
  userId: string;
  organisationId: string;
  role: string;
}

export function actorFromRequest(request: IncomingMessage): Actor | null {
  const raw = request.headers['x-ketengraph-actor'];
  if (typeof raw !== 'string' || raw.length > 2048) return null;
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Actor>;
    if (typeof value.userId !== 'string' || typeof value.organisationId !== 'string' || typeof value.role !== 'string') return null;
    return { userId: value.userId, organisationId: value.organisationId, role: value.role };
  } catch {
    return null;
  }
}

export function encodeActor(actor: Actor): string {
  return Buffer.from(JSON.stringify(actor), 'utf8').toString('base64url');
}
