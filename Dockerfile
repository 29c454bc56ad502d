# syntax=docker/dockerfile:1
# One Dockerfile, one image per app. Build from the repository root:
#   docker build --build-arg APP=ingest -t orchestron/ingest .
#   docker build --build-arg APP=relay  -t orchestron/relay .
#   docker build --build-arg APP=admin  -t orchestron/admin .
#   docker build --build-arg APP=cli    -t orchestron/cli .
# The build stage compiles only the app and the packages it uses; `pnpm deploy --prod` copies
# the app with its production dependencies (workspace packages included) into /out. The final
# stage is the app's own (app-ingest, app-relay, app-admin, app-cli): its port, HEALTHCHECK and command.
#
# Labels (OCI image annotations): pass what the build knows, e.g.
#   --build-arg VERSION=0.2.0 --build-arg REVISION=$(git rev-parse HEAD) \
#   --build-arg CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ARG APP=ingest
# Node 24 LTS, pinned by digest: every build starts from the same base, byte for byte, until
# someone moves it on purpose. The tag says what it is; the digest is what is pulled. This
# digest of node:24.21.0-alpine3.24 is the one several public repositories' Dockerfiles pinned in
# December 2026 (found by a code search for "node:24.21.0-alpine3.24@sha256"); no engine here
# could pull it, so the first build with it should confirm it (below) before a release.
# To bump it, take the newest 24.x Alpine tag and the digest of its multi-platform index:
#   docker buildx imagetools inspect node:24-alpine   # "Digest:" and the platforms it lists
# then replace tag and digest below in one commit (and note the Node version in the release notes).
ARG NODE_IMAGE=node:24.21.0-alpine3.24@sha256:ebfe2f90462722a7a4de65e91990e97fe0d401c70e0e762c5b53302f905ec1c1

FROM ${NODE_IMAGE} AS build
ARG APP
RUN case "$APP" in ingest|relay|admin|cli) ;; *) echo "--build-arg APP must be ingest, relay, admin or cli, not '$APP'" >&2; exit 1 ;; esac
WORKDIR /repo
RUN npm install -g pnpm@10.34.8
# Dependencies first: this layer is reused until the lockfile changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline \
 && pnpm exec tsc -b "apps/$APP" \
 && pnpm --filter "@orchestron/$APP" deploy --prod --legacy /out

# Shared by the apps. Files stay owned by root: the app (user node) can read, not change them.
FROM ${NODE_IMAGE} AS runtime
ARG APP
ARG NODE_IMAGE
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="orchestron-${APP}" \
      org.opencontainers.image.description="Orchestron ${APP}: webhook ingest, transactional outbox, relay to Kafka or RabbitMQ" \
      org.opencontainers.image.url="https://orchestron.dev" \
      org.opencontainers.image.documentation="https://orchestron.dev/docs" \
      org.opencontainers.image.vendor="Orchestron" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
ENV NODE_ENV=production
# Node 24's young generation is larger by default: under load ingest's RSS rose from about
# 210 MB (Node 22) to 340 MB, and back to 213 MB with 8 MB semi-spaces, with no loss of batch
# rate (docs/benchmarks.md). A NODE_OPTIONS set at run time replaces this one: keep the flag
# there too (the Kubernetes Deployments do).
ENV NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
COPY --from=build /out /app
# Every app compares the database with the migrations it was built with (/ready is 503 while
# the schema is behind them); the cli also runs them.
COPY migrations /app/migrations
ENV ORCHESTRON_MIGRATIONS_DIR=/app/migrations
USER node

FROM runtime AS app-ingest
COPY schemas /app/schemas
COPY deploy/docker/healthcheck.js /app/healthcheck.js
ENV ORCHESTRON_SCHEMAS_DIRECTORY=/app/schemas
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "/app/healthcheck.js", "ORCHESTRON_API_ADDRESS", "8080"]
ENTRYPOINT ["node", "dist/main.js"]

FROM runtime AS app-relay
COPY deploy/docker/healthcheck.js /app/healthcheck.js
EXPOSE 9091
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "/app/healthcheck.js", "ORCHESTRON_RELAY_ADDRESS", "9091"]
ENTRYPOINT ["node", "dist/main.js"]

FROM runtime AS app-admin
COPY deploy/docker/healthcheck.js /app/healthcheck.js
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "/app/healthcheck.js", "ORCHESTRON_ADMIN_ADDRESS", "8081"]
ENTRYPOINT ["node", "dist/main.js"]

# The `orchestron` command; by default it migrates (the compose migrate service, the k8s Job).
FROM runtime AS app-cli
ENTRYPOINT ["node", "dist/main.js"]
CMD ["migrate", "latest"]

FROM app-${APP}
