import type { DestinationStream } from 'pino';

import {
  createLogger,
  logContext,
  registerSecret,
  scrubText,
  scrubValue,
} from '../../../src/log/create-logger';

type Line = Record<string, unknown>;

/** A logger writing to memory; `raw` is exactly what would have reached stdout. */
function capture(base?: Record<string, unknown>) {
  const chunks: string[] = [];
  const destination: DestinationStream = { write: (chunk: string) => void chunks.push(chunk) };
  const logger = createLogger({ destination, level: 'trace', ...(base ? { base } : {}) });
  return {
    logger,
    raw: () => chunks.join(''),
    lines: (): Line[] =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Line),
  };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The secret is absent from the raw bytes and from the parsed lines, verbatim and base64-encoded. */
function expectAbsent(output: { raw: () => string; lines: () => Line[] }, ...secrets: string[]) {
  // pid and time are numbers pino adds; a digit-only secret could occur in them by chance.
  const raw = output.raw().replace(/"(?:time|pid)":\d+/g, '');
  const everything = [raw, JSON.stringify(output.lines().map(({ time: _t, pid: _p, ...rest }) => rest))];
  for (const secret of secrets) {
    for (const text of everything) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(b64(secret));
      expect(text).not.toContain(b64(secret).replace(/=+$/, ''));
    }
  }
}

describe('createLogger: a registered secret never reaches the output', () => {
  // No key or text pattern recognises this value; only the registry can catch it.
  const SECRET = 'Zq7-plain-looking-value';
  beforeAll(() => registerSecret(SECRET));

  it('is masked on every log path', () => {
    const out = capture();
    const { logger } = out;
    logger.info(`connecting with ${SECRET}`);
    logger.info('format arg %s and %j and %o', SECRET, { note: SECRET }, [SECRET]);
    logger.info({ note: SECRET }, 'top-level field');
    logger.info({ a: { b: { c: [{ d: SECRET }] } } }, 'nested field');
    logger.info({ items: ['ok', SECRET, 42] }, 'array element');
    logger.info({ cmd: `ksql -W ${b64(SECRET)}` }, 'base64 form');
    logger.child({ note: SECRET }).info('child bindings');
    logger.child({}, { msgPrefix: `[${SECRET}] ` }).info('msgPrefix');
    logContext(logger, { cluster: SECRET, runId: 'r-1' }).info('logContext child');
    logger.error(new Error(`boom ${SECRET}`));
    logger.error({ err: new TypeError(`bad ${SECRET}`) }, 'err field');
    logger.warn({ error: new RangeError(SECRET) }, 'error under another key');
    logger.info({ when: new Date(0), url: new URL(`https://example.com/?q=${SECRET}`) });
    const grandchild = logger.child({ step: 'one' }).child({ node: 'n2' });
    grandchild.setBindings({ extra: SECRET });
    grandchild.info('setBindings');
    // A caller's serializer runs after pino's formatters; only the check on the finished line sees it.
    const withSerializer = logger.child(
      {},
      { serializers: { req: (req: { id: string }) => `req ${req.id} ${SECRET}` } },
    );
    withSerializer.info({ req: { id: 'r1' } }, 'child serializer');

    expect(out.lines()).toHaveLength(15);
    expect(out.lines().at(-1)).toMatchObject({ req: 'req r1 [REDACTED]', msg: 'child serializer' });
    expectAbsent(out, SECRET);
    expect(out.raw()).toContain('[REDACTED]');
  });

  it('masks the base64 form KingbaseES V8R3 stores in primary_conninfo', () => {
    registerSecret('123456');
    const out = capture();
    out.logger.info(
      { conf: "primary_conninfo = 'host=10.0.0.1 user=SYSTEM password=MTIzNDU2'" },
      'recovery.conf',
    );
    out.logger.info('standby says: MTIzNDU2 is stored');
    expectAbsent(out, '123456');
    expect(out.lines()[0]!.conf).toBe("primary_conninfo = 'host=10.0.0.1 user=SYSTEM password=[REDACTED]'");
  });

  it('ignores values shorter than 4 characters', () => {
    registerSecret('abc');
    expect(scrubText('abc abcd')).toBe('abc abcd');
  });
});

describe('createLogger: unregistered secrets are caught by key and by pattern', () => {
  it('redacts fields with secret-looking keys at any depth, whatever the case', () => {
    const out = capture();
    const value = 'v4lue-only-a-key-reveals';
    out.logger.info({
      password: value,
      DB: { Passwd: value, pwd: value, list: [{ api_key: value }, { apiKey: value }] },
      slack: { signingSecret: value, botToken: value, Authorization: value, Cookie: value },
      ssh: { privateKey: value, private_key: value, passphrase: value },
      standby: { primary_conninfo: 'host=h port=5432 user=u', conninfo: 'host=h' },
      secret: 123456,
    });
    const [line] = out.lines();
    expectAbsent(out, value, '123456', 'host=h');
    expect(line!.password).toBe('[REDACTED]');
    expect((line!.standby as Line).primary_conninfo).toBe('[REDACTED]');
    expect(line!.secret).toBe('[REDACTED]');
  });

  it('keeps pointers to secrets and flags about them readable', () => {
    const out = capture();
    out.logger.info({
      passwordFile: '/etc/kbops/pg.pass',
      privateKeyPath: '/etc/kbops/id_ed25519',
      hasPassword: true,
    });
    expect(out.lines()[0]).toMatchObject({
      passwordFile: '/etc/kbops/pg.pass',
      privateKeyPath: '/etc/kbops/id_ed25519',
      hasPassword: true,
    });
  });

  const pem = [
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ',
    '-----END OPENSSH PRIVATE KEY-----',
  ].join('\n');

  it.each([
    ['conninfo password=', 'host=10.0.0.2 port=54321 user=SYSTEM password=c0nnPass dbname=TEST', 'c0nnPass'],
    ['quoted conninfo password', "host=h password='with space\\'q' user=u", 'with space'],
    ['PGPASSWORD env', 'PGPASSWORD="envPass9" psql -h h', 'envPass9'],
    [
      '-W flag (KingbaseES tools)',
      '/opt/Kingbase/bin/sys_basebackup -h 10.0.0.1 -U SYSTEM -W wPass77 -D /data',
      'wPass77',
    ],
    ['URL credentials', 'dial postgres://repl:urlP%40ss@10.0.0.1:5432/db failed', 'urlP%40ss'],
    ['Slack bot token', 'auth with xoxb-1111-2222-AbCdEfGhIj', '1111-2222-AbCdEfGhIj'],
    ['Slack user token', 'xoxp-3333-4444-KlMnOp', '3333-4444-KlMnOp'],
    ['Slack app token', 'socket mode xapp-1-A0B1-5555-QrStUv', '1-A0B1-5555-QrStUv'],
    ['PEM private key', `key:\n${pem}\nend`, 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'],
    [
      'Authorization header',
      'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig',
      'eyJhbGciOiJIUzI1NiJ9',
    ],
    ['SQL password literal', "ALTER USER repl WITH PASSWORD 'sqlPass1'", 'sqlPass1'],
  ])('%s in the message, a format arg, a field value, bindings and an error', (_name, text, secret) => {
    const out = capture();
    out.logger.info(text);
    out.logger.info('ran %s', text);
    out.logger.info({ detail: { stderr: text } }, 'field');
    out.logger.child({ cmd: text }).info('bindings');
    out.logger.error(new Error(text));
    expectAbsent(out, secret);
    expect(out.lines()).toHaveLength(5);
  });

  it('redacts secret keys inside objects passed as printf args', () => {
    const out = capture();
    out.logger.info('config %j / %o', { password: 'printfPass1' }, { token: 'printfTok2' });
    expectAbsent(out, 'printfPass1', 'printfTok2');
  });
});

describe('createLogger: errors', () => {
  it('logger.error(err) keeps type, message and stack, scrubbed', () => {
    const out = capture();
    const err = Object.assign(new TypeError('login failed: password=errPass1'), {
      code: 'E_AUTH',
      password: 'propPass2',
    });
    out.logger.error(err);
    const [line] = out.lines();
    const logged = line!.err as Line;
    expectAbsent(out, 'errPass1', 'propPass2');
    expect(logged.type).toBe('TypeError');
    expect(logged.message).toBe('login failed: password=[REDACTED]');
    expect(logged.stack).toMatch(/^TypeError: login failed: password=\[REDACTED\]\n\s+at /);
    expect(logged.code).toBe('E_AUTH');
    expect(line!.msg).toBe('login failed: password=[REDACTED]');
    expect(err.message).toBe('login failed: password=errPass1');
  });

  it('logger.error({ err }) keeps the error and its cause, scrubbed', () => {
    const out = capture();
    const cause = new Error('PGPASSWORD=causePass3 rejected');
    out.logger.error({ err: new Error('wrapper', { cause }), cluster: 'prod-a' }, 'add node failed');
    const [line] = out.lines();
    expectAbsent(out, 'causePass3');
    expect(line).toMatchObject({
      cluster: 'prod-a',
      msg: 'add node failed',
      err: { type: 'Error', message: 'wrapper' },
    });
    expect((line!.err as Line).cause).toMatchObject({ message: 'PGPASSWORD=[REDACTED] rejected' });
    expect(String((line!.err as Line).stack)).toContain('wrapper');
  });
});

describe('createLogger: what must survive', () => {
  it('keeps ordinary content, base fields and run context', () => {
    const out = capture({ service: 'kbops' });
    const run = logContext(out.logger, { cluster: 'prod-kb', runId: 'run-42', node: undefined });
    run.info({ host: '10.0.0.5', port: 54321, user: 'SYSTEM' }, 'adding node %s to cluster', 'kb-node-3');
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 30,
      service: 'kbops',
      cluster: 'prod-kb',
      runId: 'run-42',
      host: '10.0.0.5',
      port: 54321,
      user: 'SYSTEM',
      msg: 'adding node kb-node-3 to cluster',
    });
    expect(line).not.toHaveProperty('node');
    expect(line).not.toHaveProperty('step');
  });

  it('does not mutate what the caller logged', () => {
    const out = capture();
    const err = new Error('password=keep1');
    const fields = { password: 'keep2', nested: { dsn: 'password=keep3', list: ['xoxb-1-keep4'] }, err };
    const before = structuredClone({ ...fields, err: undefined });
    out.logger.info(fields, 'password=keep5');
    out.logger.info('%o', fields);
    expect({ ...fields, err: undefined }).toEqual(before);
    expect(fields.err).toBe(err);
    expect(err.message).toBe('password=keep1');
  });

  it('survives cyclic objects and cyclic error causes', () => {
    const out = capture();
    const node: Record<string, unknown> = { name: 'kb-node-1', token: 'cycTok1' };
    node.self = node;
    node.peers = [node, { back: node }];
    const err = new Error('loop');
    (err as { cause?: unknown }).cause = err;
    expect(() => {
      out.logger.info({ node }, 'cyclic');
      out.logger.info('cyclic arg %j', node);
      out.logger.error({ err }, 'cyclic error');
    }).not.toThrow();
    const [first] = out.lines();
    expect(first!.node).toMatchObject({ name: 'kb-node-1', token: '[REDACTED]', self: '[Circular]' });
    expectAbsent(out, 'cycTok1');
  });
});

describe('scrubValue', () => {
  it('returns a scrubbed deep copy and leaves the input alone', () => {
    const input = { a: { password: 'x1x1x1' }, b: ['postgres://u:p4ss@h/db'], n: 1, ok: true, none: null };
    const copy = scrubValue(input);
    expect(copy).toEqual({
      a: { password: '[REDACTED]' },
      b: ['postgres://u:[REDACTED]@h/db'],
      n: 1,
      ok: true,
      none: null,
    });
    expect(input.a.password).toBe('x1x1x1');
  });

  it('summarises bytes, so a key in a Buffer cannot leak as a number array', () => {
    expect(scrubValue({ key: Buffer.from('secret-bytes') })).toEqual({ key: '[Binary 12 bytes]' });
  });
});
