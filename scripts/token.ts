/**
 * `npm run token -- --role <role> --org <organisationId> [--purpose <purpose>] [--sub <id>] [--scope "<s1 s2>"] [--ttl 1h]`
 *
 * Prints a caller token from the built-in development issuer (its key pair in `.data/dev-issuer/`,
 * created if missing), which the gateway trusts when no identity provider is configured. Without
 * --scope the token carries the scopes the access policy lets the role hold (`roleScopes`);
 * without --purpose, the role's first purpose (`rolePurposes`).
 *
 *   curl localhost:4000/graphql -H "authorization: Bearer $(npm run -s token -- --role plaatser --org dji --purpose plaatsing)" …
 */
import { parseArgs } from 'node:util';
// The development issuer's module alone (and the kit's token part): loading the whole gateway would take seconds.
import { DEV_ISSUER_DIR, devPrincipal, mintDevToken } from '../gateway/src/admission/authentication/dev-issuer.js';
import { loadAccessPolicy } from '@ketengraph/service-kit/tokens';

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    org: { type: 'string' },
    purpose: { type: 'string' },
    sub: { type: 'string' },
    scope: { type: 'string' },
    ttl: { type: 'string', default: '1h' },
    dir: { type: 'string', default: DEV_ISSUER_DIR },
  },
});

const policy = loadAccessPolicy();
const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};
if (process.env.NODE_ENV === 'production') fail('The development issuer is not for production; ask your identity provider for a token.');
const role = values.role ?? fail(`--role is required: one of ${Object.keys(policy.roles).join(', ')}.`);
if (!Object.hasOwn(policy.roles, role)) fail(`Unknown role ${role}: one of ${Object.keys(policy.roles).join(', ')}.`);
const org = values.org ?? fail('--org is required: the organisation id (for a care provider, its provider id in the graph).');
if (values.purpose !== undefined && !Object.hasOwn(policy.purposes, values.purpose))
  fail(`Unknown purpose ${values.purpose}: one of ${Object.keys(policy.purposes).join(', ')}.`);
const ttl = /^(\d+)([smhd])$/.exec(values.ttl) ?? fail('--ttl is a number with a unit: 90s, 30m, 1h, 7d.');
const expiresInSeconds = Number(ttl[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[ttl[2] as 's' | 'm' | 'h' | 'd'];

const principal = devPrincipal(
  { role, organisationId: org, subject: values.sub, scopes: values.scope?.split(' ').filter(Boolean), purpose: values.purpose },
  policy,
);
const unknownScope = principal.scopes.find((scope) => !Object.hasOwn(policy.scopes, scope));
if (unknownScope) fail(`Unknown scope ${unknownScope}: one of ${Object.keys(policy.scopes).join(', ')}.`);
const token = await mintDevToken(principal, { expiresInSeconds, dir: values.dir });
console.log(token);
