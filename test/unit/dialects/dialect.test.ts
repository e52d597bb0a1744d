import { quoteConfigValue, quoteConninfoValue, standbyConninfo } from '../../../src/dialects/dialect';

const settings = {
  primaryHost: '192.168.4.127',
  primaryPort: 54321,
  user: 'SYSTEM',
  applicationName: 'srv159',
  slotName: 'slot_srv159',
  passwordToken: '@@DB_PASSWORD@@',
};

describe('quoteConfigValue', () => {
  it('single-quotes and doubles quotes', () => {
    expect(quoteConfigValue('on')).toBe("'on'");
    expect(quoteConfigValue("it's")).toBe("'it''s'");
    expect(quoteConfigValue('')).toBe("''");
  });

  it('doubles backslashes and escapes line breaks (the config scanner reads escapes)', () => {
    expect(quoteConfigValue('a\\b')).toBe("'a\\\\b'");
    expect(quoteConfigValue('a\nb\rc')).toBe("'a\\nb\\rc'");
  });
});

describe('quoteConninfoValue', () => {
  it('leaves plain values alone', () => {
    expect(quoteConninfoValue('192.168.4.127')).toBe('192.168.4.127');
    expect(quoteConninfoValue('MTIzNDU2')).toBe('MTIzNDU2');
  });

  it('quotes empty values and values with spaces, quotes or backslashes the way libpq reads them', () => {
    expect(quoteConninfoValue('')).toBe("''");
    expect(quoteConninfoValue('a b')).toBe("'a b'");
    expect(quoteConninfoValue("p'w \\x")).toBe("'p\\'w \\\\x'");
  });
});

describe('standbyConninfo', () => {
  it("uses the write-up's order, with the token verbatim", () => {
    expect(standbyConninfo(settings)).toBe(
      'port=54321 host=192.168.4.127 user=SYSTEM password=@@DB_PASSWORD@@ application_name=srv159',
    );
  });

  it('quotes other values that need it', () => {
    expect(standbyConninfo({ ...settings, user: 'rep user', applicationName: "o'k" })).toBe(
      "port=54321 host=192.168.4.127 user='rep user' password=@@DB_PASSWORD@@ application_name='o\\'k'",
    );
  });

  it('refuses a token that would not survive quoting unchanged', () => {
    for (const passwordToken of ['', 'a b', "a'b", 'a"b', 'a\\b']) {
      expect(() => standbyConninfo({ ...settings, passwordToken })).toThrow(TypeError);
    }
  });
});
