# syntax=docker/dockerfile:1
# One Dockerfile, one image per app. Build from the repository root:
#   docker build --build-arg APP=ingest -t orchestron/ingest .
#   docker build --build-arg APP=relay  -t orchestron/relay .
#   docker build --build-arg APP=admin  -t orchestron/admin .
#   docker build --build-arg APP=cli    -t orchestron/cli .
# The build stage compiles only the app and the packages it uses; `pnpm deploy --prod` copies
# the app with its production dependencies (workspace packages included) into /out. The final
# stage is the app's own (app-ingest, app-relay, app-admin, app-cli): its port, HEALTHCHECK and command.
ARG APP=ingest
ARG NODE_IMAGE=node:22-alpine

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
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out /app
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
COPY migrations /app/migrations
ENV ORCHESTRON_MIGRATIONS_DIR=/app/migrations
ENTRYPOINT ["node", "dist/main.js"]
CMD ["migrate", "latest"]

FROM app-${APP}
