# kbops: Slack chat-ops bot for KingbaseES V8R3 / PostgreSQL clusters.
#
# Nothing secret is baked into this image. At run time, mount read-only:
#   /etc/kbops/   inventory, SSH private key, known_hosts
# and pass tokens and passwords as environment variables (Slack tokens, DB passwords); keep the state
# volume (/var/lib/kbops) unless KBOPS_STATE_DATABASE_URL is set, e.g.
#   docker run --env-file kbops.env -v /srv/kbops:/etc/kbops:ro -v kbops-state:/var/lib/kbops kbops

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
# The reports' lag chart draws its text in DejaVu Sans, loaded by path (src/render/lag-chart.ts);
# the slim image has no fonts at all.
RUN apt-get update \
  && apt-get install -y --no-install-recommends fonts-dejavu-core \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=builder /app/dist ./dist
# Files stay root-owned: the bot only reads its code, and runs unprivileged. Its one writable place
# is the state volume: the embedded store (without KBOPS_STATE_DATABASE_URL), locked to one process.
RUN mkdir -p /var/lib/kbops && chown node:node /var/lib/kbops && chmod 700 /var/lib/kbops
ENV KBOPS_STATE_DIR=/var/lib/kbops PORT=3000
VOLUME /var/lib/kbops
USER node
EXPOSE 3000
# /healthz on the bot's HTTP port (both Slack modes): engine loop turning, store answering, Slack
# connected. node's fetch: the image has no curl.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
CMD ["node", "dist/commands/main.js"]
