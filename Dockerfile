# syntax=docker/dockerfile:1
# Tapline's container image: `tapline` with every tap and target, run as a non-root user.
#   docker build -t tapline .
#   docker run --rm -v "$PWD:/work" tapline run --all --summary-json
#   docker run -d -p 8080:8080 -v "$PWD:/work" tapline serve --host 0.0.0.0 --port 8080
# The build stage's last command is scripts/container/build-app.sh, which
# packages/release-check/test/container.test.ts runs without Docker (see docs/orchestrators/).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION=10.34.9
RUN npm install --global "pnpm@${PNPM_VERSION}"
WORKDIR /src
# Third-party packages first, keyed on the lockfile alone, so a source change reuses this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile \
 && pnpm turbo run build --filter=@tapline/cli... \
 && scripts/container/build-app.sh /app --offline

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PATH=/app/node_modules/.bin:$PATH
# The application stays owned by root (read-only to the runtime user); only /work is writable:
# tapline.yml, .env, DuckDB files and the webhook inbox (.tapline/inbox) live there, usually a volume.
COPY --from=build /app /app
COPY scripts/container/healthcheck.mjs /usr/local/lib/tapline/healthcheck.mjs
RUN mkdir /work && chown node:node /work
# `node` (uid 1000) is the unprivileged user the official Node images ship.
USER node
WORKDIR /work
# `tapline serve`: healthy while /readyz answers 200. Any other command is healthy while it runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/usr/local/lib/tapline/healthcheck.mjs"]
EXPOSE 8080
# tapline handles SIGTERM/SIGINT itself (stops both sides, commits what is durable, exits 130),
# so it can run as PID 1; the shim in .bin execs node, which then receives the signals.
ENTRYPOINT ["tapline"]
CMD ["--help"]
