# syntax=docker/dockerfile:1
# One image for every service of ketengraph (see README "Run in production"): the compiled output
# of `npm run build` and the production dependencies, run as the unprivileged `node` user.
#   gateway:   docker run … ketengraph                                   (the default command)
#   subgraph:  docker run … ketengraph node dist/subgraphs/plaatsing/src/main.js
# Build: docker build -t ketengraph .

ARG NODE_VERSION=24

# --- build: install everything, generate, compile, then drop the development dependencies ---
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json .npmrc ./
COPY gateway/package.json gateway/
COPY packages/service-kit/package.json packages/service-kit/
COPY packages/domain/package.json packages/domain/
COPY packages/seed-data/package.json packages/seed-data/
COPY subgraphs/indicatiestelling/package.json subgraphs/indicatiestelling/
COPY subgraphs/plaatsing/package.json subgraphs/plaatsing/
COPY subgraphs/forensisch-cv/package.json subgraphs/forensisch-cv/
COPY subgraphs/kwaliteit/package.json subgraphs/kwaliteit/
COPY test/package.json test/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: compiled JavaScript and production dependencies only, no sources, no compiler ---
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/scripts/healthcheck.mjs ./healthcheck.mjs
# State the gateway keeps outside its databases (the access log's checkpoints): mount a volume here.
RUN mkdir -p /var/lib/ketengraph && chown node:node /var/lib/ketengraph
USER node
EXPOSE 4000
# Alive (/health) and able to serve (/ready) on the service's own PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 CMD ["node", "healthcheck.mjs"]
CMD ["node", "dist/gateway/src/main.js"]
