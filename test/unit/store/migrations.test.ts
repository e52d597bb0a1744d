import { MIGRATIONS } from '../../../src/store/migrations';

describe('MIGRATIONS', () => {
  test('versions are 1, 2, 3… in order, each named', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    for (const m of MIGRATIONS) expect(m.name.trim()).not.toBe('');
  });

  test('every table and function they create carries the kbops_ prefix', () => {
    const created = MIGRATIONS.flatMap((m) => [
      ...m.sql.matchAll(/CREATE (?:TABLE|INDEX|FUNCTION|TRIGGER)\s+(?:IF NOT EXISTS\s+)?(\w+)/g),
    ]).map((match) => match[1]);
    expect(created.length).toBeGreaterThan(0);
    for (const name of created) expect(name).toMatch(/^kbops_/);
  });
});
