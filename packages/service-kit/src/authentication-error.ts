/** Why a request was not authenticated; logged, never sent (the client learns only "401"). */
export type AuthenticationFailure = 'missing-token' | 'invalid-token' | 'invalid-claims';

/** Thrown by a context function; the HTTP layer answers it with 401 UNAUTHENTICATED and no data. */
export class AuthenticationError extends Error {
  constructor(
    readonly reason: AuthenticationFailure,
    /** jose's error code (e.g. ERR_JWT_EXPIRED), for the log. */
    readonly detail?: string,
  ) {
    super('Authentication required: send a valid bearer token.');
    this.name = 'AuthenticationError';
  }
}
