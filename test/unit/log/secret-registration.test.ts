import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSecret } from '../../../src/config/resolve-secret';
import { REDACTED, registerSecret, scrubText, secretForms } from '../../../src/log/scrub-secrets';

// Every secret kbops resolves is registered for scrubbing the moment it is read (a rotated file
// re-read later included), in every form it takes in conninfo, URLs, pgpass lines, base64 and JSON.

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('resolveSecret registers what it reads', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'kbops-secret-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('masks a file secret at once, and its new value after the file is rotated and re-read', async () => {
    const file = join(dir, 'db.password');
    writeFileSync(file, 'Rot8-first-value\n');
    expect(scrubText('pw Rot8-first-value')).toBe('pw Rot8-first-value'); // unknown before it is read
    expect(await resolveSecret({ file }, { env: {} })).toEqual({ ok: true, value: 'Rot8-first-value' });
    expect(scrubText('pw Rot8-first-value')).toBe(`pw ${REDACTED}`);

    writeFileSync(file, 'Rot8-second-value\n');
    expect(scrubText('pw Rot8-second-value')).toBe('pw Rot8-second-value');
    await resolveSecret({ file }, { env: {} });
    expect(scrubText(`pw Rot8-second-value ${b64('Rot8-second-value')}`)).toBe(`pw ${REDACTED} ${REDACTED}`);
  });

  it('masks an env secret of exactly 4 characters', async () => {
    expect(await resolveSecret({ env: 'PW' }, { env: { PW: 'q9Zx' } })).toEqual({ ok: true, value: 'q9Zx' });
    expect(scrubText('x q9Zx y')).toBe(`x ${REDACTED} y`);
  });

  it.each(['a', 'ab', 'ab1'])('refuses %j: too short to be masked without masking every word', async (v) => {
    const r = await resolveSecret({ env: 'PW' }, { env: { PW: v } });
    // The whole message: it names where the secret is, never the value.
    expect(r).toEqual({
      ok: false,
      message:
        'environment variable PW holds a secret shorter than 4 characters, which kbops cannot keep out of its logs: use a longer one',
    });
  });

  it('does not register a secret it could not read', async () => {
    const r = await resolveSecret({ file: join(dir, 'missing') }, { env: {} });
    expect(r.ok).toBe(false);
  });
});

describe('registered secrets are masked in every form they take', () => {
  // Quotes, backslashes, colons and non-ASCII: each escaping rule changes this value.
  const SECRET = `Pa'ss\\w:rd é@/`;
  beforeAll(() => registerSecret(SECRET));

  it.each([
    ['plain', SECRET],
    ['base64', b64(SECRET)],
    ['base64 without padding', b64(SECRET).replace(/=+$/, '')],
    ['URL-encoded (a database URL)', encodeURIComponent(SECRET)],
    ['backslash-escaped in a quoted conninfo value', `Pa\\'ss\\\\w:rd é@/`],
    ['escaped in a .pgpass line', `Pa'ss\\\\w\\:rd é@/`],
    ['JSON-escaped', JSON.stringify(SECRET).slice(1, -1)],
  ])('%s', (_what, form) => {
    const text = `before ${form} after`;
    expect(scrubText(text)).toBe(`before ${REDACTED} after`);
  });

  it('lists those forms for scanners, the plain value first', () => {
    const forms = secretForms(SECRET);
    expect(forms[0]).toBe(SECRET);
    expect(forms).toEqual(expect.arrayContaining([b64(SECRET), encodeURIComponent(SECRET)]));
  });
});
