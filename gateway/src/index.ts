export { loadGatewayConfig, type GatewayConfig } from './config/index.js';
export type { CallerTokenSettings } from './admission/authentication/config.js';
export type { GatewaySigningKeySource } from './federation/signing-key.js';
export { startGateway, type GatewayOptions, type RunningGateway } from './server.js';
export type { FeatureSubgraphs } from './federation/features.js';
export { DEV_AUDIENCE, DEV_ISSUER, DEV_ISSUER_DIR, devPrincipal, mintDevToken } from './admission/authentication/dev-issuer.js';
export { GATEWAY_JWKS_PATH } from './federation/jwks-route.js';
export { withoutSecurityPurpose } from './federation/gateway.js';
