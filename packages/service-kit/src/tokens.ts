/**
 * Keys, token signing and the access policy alone, without the rest of the kit (Apollo, Prisma,
 * PGlite, OpenTelemetry): what `npm run token` needs, so it starts in a moment.
 */
export * from './authentication.js';
export * from './keys.js';
export * from './paths.js';
export * from './principal.js';
