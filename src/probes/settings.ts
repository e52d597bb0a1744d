import type { Dialect } from '../dialects/dialect';
import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { columnList, missingColumns, rowReader } from './row-reader';

// Server settings, from the settings view (pg_settings / sys_settings): what the server runs with now,
// which is not always what the config file says (pending restarts, ALTER SYSTEM).

/** What the preflight compares between the primary and the new node. */
export const PREFLIGHT_SETTINGS = [
  'max_wal_senders',
  'max_replication_slots',
  'wal_level',
  'max_connections',
  'hot_standby',
  'port',
  'listen_addresses',
  'data_directory',
] as const;

export interface Setting {
  /** A number for integer and real settings, a boolean for bool ones, text otherwise. */
  readonly value: string | number | boolean;
  /** The unit of a numeric value as the view gives it (`8kB`, `ms`…), or null. */
  readonly unit: string | null;
}

/** Settings by name; names not known to the server are simply absent from the rows. */
export const settingsSql = (d: Dialect, names: readonly string[] = PREFLIGHT_SETTINGS): SqlProbe =>
  sqlProbe(`select name, setting, unit, vartype from ${d.sql.settingsView} where name = any($1)`, [
    [...names],
  ]);

/** Rows of settingsSql by name. Without a vartype column, whole numbers become numbers. */
export function parseSettings(rows: readonly Row[]): Parsed<Record<string, Setting>> {
  const missing = missingColumns(rows, ['name', 'setting']);
  if (missing.length > 0) {
    return failed(`the settings have no ${missing.join(', ')} column (columns: ${columnList(rows)})`);
  }
  const settings: Record<string, Setting> = {};
  for (const row of rows) {
    const r = rowReader(row);
    const name = r.text('name')?.toLowerCase();
    if (name === undefined) continue;
    const text = r.text('setting') ?? '';
    const type = r.text('vartype')?.toLowerCase() ?? null;
    const value = typed(text, type);
    if (value === undefined) return failed(`setting ${name} (${type}) has the value ${JSON.stringify(text)}`);
    settings[name] = { value, unit: r.text('unit') };
  }
  return parsed(settings);
}

function typed(text: string, type: string | null): string | number | boolean | undefined {
  switch (type) {
    case 'integer':
    case 'real':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : undefined;
    case 'bool':
      return text === 'on' ? true : text === 'off' ? false : undefined;
    case null:
      return /^-?\d+$/.test(text) ? Number(text) : text;
    default:
      return text;
  }
}
