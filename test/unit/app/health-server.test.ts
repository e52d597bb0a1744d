import {
  checkHealth,
  healthHandler,
  startHealthServer,
  type HealthProbes,
} from '../../../src/app/health-server';
import { KbopsMetrics, metricsHandler } from '../../../src/app/metrics';

const NOW = new Date('2025-01-01T12:00:00Z');
const probes = (over: Partial<HealthProbes> = {}): HealthProbes => ({
  lastTickAt: () => new Date(NOW.getTime() - 1_000),
  maxTickAgeMs: 11_500,
  pingStore: async () => undefined,
  slackProblem: () => undefined,
  now: () => NOW,
  timeoutMs: 50,
  ...over,
});

describe('checkHealth', () => {
  it('is 200 when the loop turned lately, the store answers and Slack is up', async () => {
    const r = await checkHealth(probes());
    expect(r).toEqual({
      status: 200,
      body: {
        ok: true,
        failing: [],
        checks: { engine: { ok: true }, store: { ok: true }, slack: { ok: true } },
      },
    });
  });

  it('names each failing part: a stalled or never-started loop, a store that fails or hangs, Slack down', async () => {
    const reasons: string[] = [];
    const stalled = await checkHealth(
      probes({
        lastTickAt: () => new Date(NOW.getTime() - 60_000),
        pingStore: () => Promise.reject(new Error('PGlite is closed password=hunter2')),
        slackProblem: () => 'the Socket Mode connection is down',
        onUnhealthy: (part, why) => reasons.push(`${part}: ${why}`),
      }),
    );
    expect(stalled.status).toBe(503);
    expect(stalled.body.failing).toEqual(['engine', 'store', 'slack']);
    expect(stalled.body.checks.engine.detail).toMatch(/60 s ago/);
    // The why goes to the log, never to a body that may face the internet.
    expect(JSON.stringify(stalled.body)).not.toContain('hunter2');
    expect(reasons).toContain('store: PGlite is closed password=hunter2');

    const hung = await checkHealth(
      probes({ lastTickAt: () => undefined, pingStore: () => new Promise(() => {}) }),
    );
    expect(hung.body.failing).toEqual(['engine', 'store']);
  });
});

describe('the health server', () => {
  it('serves GET /healthz with the report and nothing else', async () => {
    let storeUp = true;
    const server = await startHealthServer(
      0,
      healthHandler(
        probes({
          now: undefined,
          lastTickAt: () => new Date(),
          pingStore: async () => {
            if (!storeUp) throw new Error('down');
          },
        }),
      ),
    );
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const ok = await fetch(`${url}/healthz`);
      expect([ok.status, ok.headers.get('content-type'), ((await ok.json()) as { ok: boolean }).ok]).toEqual([
        200,
        'application/json',
        true,
      ]);
      storeUp = false;
      const down = await fetch(`${url}/healthz`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as { failing: string[] }).failing).toEqual(['store']);
      expect((await fetch(`${url}/`)).status).toBe(404);
      expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});

describe('the health server with metrics', () => {
  it('serves GET /metrics in the text exposition format beside /healthz; other methods get 405', async () => {
    const metrics = new KbopsMetrics({ processMetrics: false });
    metrics.rateLimited();
    const server = await startHealthServer(
      0,
      healthHandler(probes({ now: undefined, lastTickAt: () => new Date() })),
      {
        metrics: metricsHandler(metrics),
      },
    );
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const r = await fetch(`${url}/metrics`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe(metrics.contentType);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const body = await r.text();
      expect(body).toMatch(/^# TYPE kbops_slack_rate_limited_total counter$/m);
      expect(body).toMatch(/^kbops_slack_rate_limited_total 1$/m);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('has no /metrics unless given one', async () => {
    const server = await startHealthServer(0, healthHandler(probes()));
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
