import { GraphQLError } from 'graphql';
import type { ErrorCode } from './error-codes.js';

/** A refusal the caller can act on; the message is for people and never carries personal data. */
export function domainError(code: ErrorCode, message: string, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...details } });
}

export function badInput(message: string, field?: string): GraphQLError {
  return domainError('BAD_USER_INPUT', message, field ? { field } : {});
}

export function notFound(what: string, id: string): GraphQLError {
  return domainError('NOT_FOUND', `${what} ${id} does not exist.`, { id });
}

/**
 * A root query's answer for an id that names nothing: `null` with NOT_FOUND at its path, like a
 * mutation's. The message names the kind of thing only (the id may be anything a caller sent).
 */
export function found<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw domainError('NOT_FOUND', `No ${what} has this id.`);
  return value;
}

/** The caller on whose behalf a change is recorded; changes without one are refused. */
export function requireActor<A>(actor: A | null): A {
  if (!actor) throw domainError('UNAUTHENTICATED', 'This change is recorded on behalf of a person; sign in through the gateway.');
  return actor;
}

/**
 * True for a unique-constraint violation (Prisma's P2002). The constraint, not a prior lookup, is
 * what keeps a duplicate out when two requests race; callers map it to a typed error.
 */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}
