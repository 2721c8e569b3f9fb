export { loadGatewayConfig, type CallerTokenSettings, type GatewayConfig, type GatewaySigningKeySource } from './config.js';
export { startGateway, type RunningGateway } from './server.js';
export { DEV_AUDIENCE, DEV_ISSUER, DEV_ISSUER_DIR, devPrincipal, mintDevToken } from './auth/dev-issuer.js';
export { GATEWAY_JWKS_PATH } from './auth/jwks-route.js';
export { withoutSecurityPurpose } from './federation/gateway.js';
