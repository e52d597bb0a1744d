# kbops: Slack chat-ops bot for KingbaseES V8R3 / PostgreSQL clusters.
#
# Nothing secret is baked into this image. At run time, mount read-only:
#   /etc/kbops/   inventory, SSH private key, known_hosts
# and pass tokens and passwords as environment variables (Slack tokens, DB passwords), e.g.
#   docker run --env-file kbops.env -v /srv/kbops:/etc/kbops:ro kbops

FROM node:20-bookworm-slim AS builder
WORKDIR /app
# --ignore-scripts: tsc needs no install scripts, and the optional native builds (ssh2's crypto binding,
# cpu-features) would only fail noisily without a compiler; ssh2 falls back to pure JS.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
# Everything tsconfig.build.json includes; .dockerignore keeps node_modules, keys and junk out.
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=builder /app/dist ./dist
# Files stay root-owned: the bot only reads its code, and runs unprivileged.
USER node
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD node dist/src/cli/main.js health || exit 1
CMD ["node", "dist/src/main.js"]
