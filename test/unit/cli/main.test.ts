import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main';
import { writeArtifact } from '../../support/artifacts';

let dir: string;
const run = async (argv: string[], env: Record<string, string>) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, env, { out: (t) => out.push(t), err: (t) => err.push(t), tty: false });
  writeArtifact(`cli-${argv[0] ?? 'none'}.txt`, [...out, ...err].join('\n'));
  return { code, out: out.join('\n'), err: err.join('\n') };
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbops-cli-'));
  writeFileSync(join(dir, 'key'), 'k', { mode: 0o600 });
  writeFileSync(join(dir, 'known_hosts'), '');
  writeFileSync(
    join(dir, 'good.yaml'),
    `clusters:\n  lab:\n    dialect: postgresql\n    clusterPath: /srv/pg\n    ssh: { user: postgres, privateKeyFile: ${dir}/key, knownHostsFile: ${dir}/known_hosts }\n    db: { user: postgres, database: app, password: { env: PGPW } }\n    nodes:\n      - { name: pg1, host: 127.0.0.11 }\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kbops CLI', () => {
  it('check: summarises a valid configuration and exits 0', async () => {
    const r = await run(['check'], { KBOPS_INVENTORY: join(dir, 'good.yaml'), PGPW: 'pw-value' });
    expect(r).toEqual({
      code: 0,
      out: `inventory ${dir}/good.yaml: OK\n  lab (postgresql): pg1@127.0.0.11:5432`,
      err: '',
    });
  });

  it('check: lists env and inventory problems together and exits 2, without echoing secrets', async () => {
    const r = await run(['check'], {
      KBOPS_INVENTORY: join(dir, 'good.yaml'),
      LOG_LEVEL: 'loud',
      SLACK_BOT_TOKEN: 'xoxp-secret-ish',
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain('configuration has 4 problem(s)');
    expect(r.err).toContain('SLACK_SIGNING_SECRET: required in HTTP mode');
    expect(r.err).toContain('LOG_LEVEL: must be one of');
    expect(r.err).toContain('SLACK_BOT_TOKEN: must be a bot token');
    expect(r.err).toContain('clusters.lab.db.password: environment variable PGPW is not set');
    expect(r.err).not.toContain('secret-ish');
  });

  it('health: 0 with a good configuration, 2 without one', async () => {
    expect(
      (await run(['health'], { KBOPS_INVENTORY: join(dir, 'good.yaml'), PGPW: 'pw-value-x' })).code,
    ).toBe(0);
    expect((await run(['health'], { KBOPS_INVENTORY: join(dir, 'missing.yaml') })).code).toBe(2);
  });

  it('usage errors exit 64', async () => {
    expect((await run([], {})).code).toBe(64);
    const r = await run(['frobnicate'], {});
    expect([r.code, r.err.split('\n')[0]]).toEqual([64, 'kbops: unknown command "frobnicate"']);
  });
});
