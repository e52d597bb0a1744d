import { defaultStateDir, readEnvOptions } from '../../../src/config/read-env-options';

const SIGNING = '0123456789abcdef0123456789abcdef';

describe('readEnvOptions', () => {
  it('defaults to CLI/console mode with no Slack settings', () => {
    expect(readEnvOptions({ HOME: '/home/ops' })).toEqual({
      ok: true,
      options: {
        KBOPS_INVENTORY: './kbops.yaml',
        KBOPS_INSTANCE_ID: 'kbops',
        LOG_LEVEL: 'info',
        PORT: 3000,
        KBOPS_STATE_DIR: '/home/ops/.local/state/kbops',
      },
    });
  });

  it('puts the embedded store at an absolute path, never relative to the working directory', () => {
    const dir = (env: Record<string, string>) => {
      const r = readEnvOptions(env);
      return r.ok ? r.options.KBOPS_STATE_DIR : r.problems;
    };
    expect(dir({ XDG_STATE_HOME: '/srv/state', HOME: '/home/ops' })).toBe('/srv/state/kbops');
    expect(dir({ XDG_STATE_HOME: 'relative', HOME: '/home/ops' })).toBe('/home/ops/.local/state/kbops');
    expect(dir({ KBOPS_STATE_DIR: '/var/lib/kbops', HOME: '/home/ops' })).toBe('/var/lib/kbops');
    expect(defaultStateDir({})).toMatch(/^\/.*\/\.local\/state\/kbops$/);
    expect(dir({ KBOPS_STATE_DIR: './.kbops-state' })).toEqual([
      expect.objectContaining({ path: 'KBOPS_STATE_DIR' }),
    ]);
  });

  it('accepts HTTP mode and Socket Mode', () => {
    const http = readEnvOptions({
      SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
      SLACK_SIGNING_SECRET: SIGNING,
      PORT: '8080',
    });
    expect(http.ok && [http.options.SLACK_BOT_TOKEN, http.options.PORT]).toEqual(['xoxb-1-2-abc', 8080]);
    const socket = readEnvOptions({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-A' });
    expect(socket.ok).toBe(true);
  });

  it('reads the instance id, the only place kbops reads KBOPS_INSTANCE_ID', () => {
    const id = (env: Record<string, string>) => {
      const r = readEnvOptions(env);
      return r.ok ? r.options.KBOPS_INSTANCE_ID : r.problems.map((p) => p.path);
    };
    expect(id({ KBOPS_INSTANCE_ID: 'ops-eu.1' })).toBe('ops-eu.1');
    expect(id({ KBOPS_INSTANCE_ID: '' })).toBe('kbops');
    // It is the front of every owner id (`<id>@host/pid/random`): no @ or / in it.
    expect(id({ KBOPS_INSTANCE_ID: 'ops@evil' })).toEqual(['KBOPS_INSTANCE_ID']);
    expect(id({ KBOPS_INSTANCE_ID: 'a/b' })).toEqual(['KBOPS_INSTANCE_ID']);
    expect(id({ KBOPS_INSTANCE_ID: 'x'.repeat(65) })).toEqual(['KBOPS_INSTANCE_ID']);
  });

  it('treats empty variables as unset', () => {
    expect(readEnvOptions({ SLACK_BOT_TOKEN: '', LOG_LEVEL: '' }).ok).toBe(true);
  });

  it('reports every problem with the variable name, never the value', () => {
    const r = readEnvOptions({
      SLACK_BOT_TOKEN: 'xoxp-user-token-secret',
      SLACK_APP_TOKEN: 'not-an-app-token',
      LOG_LEVEL: 'loud',
      PORT: '99999',
      KBOPS_STATE_DATABASE_URL: 'mysql://x',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.path).sort()).toEqual([
      'KBOPS_STATE_DATABASE_URL',
      'LOG_LEVEL',
      'PORT',
      'SLACK_APP_TOKEN',
      'SLACK_BOT_TOKEN',
    ]);
    expect(JSON.stringify(r)).not.toContain('user-token-secret');
  });

  it('requires the signing secret in HTTP mode and the bot token with an app token', () => {
    const http = readEnvOptions({ SLACK_BOT_TOKEN: 'xoxb-1' });
    expect(http.ok ? [] : http.problems).toEqual([
      {
        path: 'SLACK_SIGNING_SECRET',
        message: 'required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
      },
    ]);
    const socket = readEnvOptions({ SLACK_APP_TOKEN: 'xapp-1' });
    expect(socket.ok ? [] : socket.problems).toEqual([
      { path: 'SLACK_BOT_TOKEN', message: 'required when SLACK_APP_TOKEN is set' },
    ]);
  });
});
