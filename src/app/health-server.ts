import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// GET /healthz: 200 when the bot does its job (the engine loop turns, the store answers, Slack is
// connected), 503 naming what does not. The HEALTHCHECK of the image asks it, so a hung bot is
// restarted instead of staying "healthy". It may face the internet (HTTP mode shares Slack's port):
// the body says which part failed, never why; the why goes to the log.

export type HealthPart = 'engine' | 'store' | 'slack';

export interface HealthProbes {
  /** When the engine loop last finished a round. */
  readonly lastTickAt: () => Date | undefined;
  /** Longest a turning loop goes between rounds (a few poll intervals and some slack). */
  readonly maxTickAgeMs: number;
  /** A trivial query: rejects, or does not answer within timeoutMs, when the store is down. */
  readonly pingStore: () => Promise<void>;
  /** Undefined while the Slack connection is up, else what is wrong (short, no secrets). */
  readonly slackProblem: () => string | undefined;
  readonly now?: () => Date;
  /** How long the store may take to answer (default 5 s). */
  readonly timeoutMs?: number;
  /** Told every failing part with the underlying reason, for the log. */
  readonly onUnhealthy?: (part: HealthPart, reason: string) => void;
}

export interface HealthCheck {
  readonly ok: boolean;
  readonly detail?: string;
}

export interface HealthReport {
  readonly status: 200 | 503;
  readonly body: {
    readonly ok: boolean;
    readonly failing: readonly HealthPart[];
    readonly checks: Readonly<Record<HealthPart, HealthCheck>>;
  };
}

export async function checkHealth(p: HealthProbes): Promise<HealthReport> {
  const now = (p.now ?? (() => new Date()))();
  const last = p.lastTickAt();
  const age = last === undefined ? undefined : now.getTime() - last.getTime();
  const engine: HealthCheck =
    age === undefined
      ? { ok: false, detail: 'the engine loop has not completed a round yet' }
      : age > p.maxTickAgeMs
        ? { ok: false, detail: `the engine loop last completed a round ${Math.round(age / 1000)} s ago` }
        : { ok: true };
  const store = await pingWithin(p.pingStore, p.timeoutMs ?? 5_000).then(
    (): HealthCheck => ({ ok: true }),
    (err: unknown): HealthCheck => {
      p.onUnhealthy?.('store', err instanceof Error ? err.message : String(err));
      return { ok: false, detail: 'the state store does not answer' };
    },
  );
  const problem = p.slackProblem();
  const slack: HealthCheck = problem === undefined ? { ok: true } : { ok: false, detail: problem };
  const checks = { engine, store, slack };
  const failing = (Object.keys(checks) as HealthPart[]).filter((k) => !checks[k].ok);
  for (const part of failing) if (part !== 'store') p.onUnhealthy?.(part, checks[part].detail ?? '');
  return { status: failing.length === 0 ? 200 : 503, body: { ok: failing.length === 0, failing, checks } };
}

function pingWithin(ping: () => Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([ping(), late]).finally(() => clearTimeout(timer));
}

/** The /healthz request handler: for Bolt's custom routes (HTTP mode) and startHealthServer. */
export function healthHandler(p: HealthProbes): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    void checkHealth(p).then(
      (r) => {
        const body = JSON.stringify(r.body);
        res.writeHead(r.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => res.writeHead(503).end(),
    );
  };
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A server of its own for /healthz, and /metrics when given (Socket Mode has no HTTP server of its
 * own to add a route to).
 */
export async function startHealthServer(
  port: number,
  handler: RequestHandler,
  more: { readonly metrics?: RequestHandler } = {},
): Promise<HealthServer> {
  const routes = new Map<string, RequestHandler>([['/healthz', handler]]);
  if (more.metrics) routes.set('/metrics', more.metrics);
  const server = createServer((req, res) => {
    const route = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
