import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { rowReader } from './row-reader';

// Which server a node runs. PostgreSQL: `15.18 (Debian …)` and server_version_num 150018 (≥ 10: the
// major is the first number; before 10 the first two, 9.6). KingbaseES V8R3 names its builds
// V008R003C002B0160 (version 8, release 3, C 2, build 160): ksql prints it, version() holds it [I];
// what its server_version(_num) report is [U], so every text is read and the Kingbase name wins.

export interface ServerVersion {
  readonly family: 'postgresql' | 'kingbase';
  /** What must match between nodes: '15', '9.6', or 'V8R3'. Compare with sameMajor. */
  readonly major: string;
  /** The PostgreSQL major the server is (based on), when a text or number shows it. */
  readonly pgMajor: string | null;
  readonly num: number | null;
  /** KingbaseES build parts, from `V008R003C002B0160`. */
  readonly kingbase?: {
    readonly version: number;
    readonly release: number;
    readonly c?: number;
    readonly build?: number;
  };
  /** The most specific version text seen (a Kingbase build name, else server_version). */
  readonly text: string;
}

/** One round trip; current_setting() exists under the same name in both dialects. */
export const serverVersionSql: SqlProbe = sqlProbe(
  "select version() as version, current_setting('server_version') as server_version, " +
    "current_setting('server_version_num') as server_version_num",
);

const KINGBASE = /\bV0*(\d+)R0*(\d+)(?:C0*(\d+))?(?:B0*(\d+))?/i;
const PG_TEXT = /(?:^|\s|\()(\d+)\.(\d+)/;

/** Rows of serverVersionSql (any of its columns may be missing). */
export function parseServerVersion(rows: readonly Row[]): Parsed<ServerVersion> {
  const row = rows[0];
  if (row === undefined) return failed('the version query returned no row');
  const r = rowReader(row);
  const num = r.int('server_version_num') ?? null;
  const texts = [r.text('server_version'), r.text('version')].filter((t): t is string => t !== null);
  return fromTexts(texts, num);
}

/** `postgres --version`, `kingbase --version`, version() or server_version text. */
export function parseVersionText(text: string): Parsed<ServerVersion> {
  return fromTexts([text.trim()], null);
}

/** Same product and major (KingbaseES: same V/R; PostgreSQL: same major). */
export const sameMajor = (a: ServerVersion, b: ServerVersion): boolean =>
  a.family === b.family && a.major === b.major;

function fromTexts(texts: readonly string[], num: number | null): Parsed<ServerVersion> {
  const fromNum = num !== null && num > 0 ? majorOfNum(num) : null;
  const pgText = texts.map((t) => PG_TEXT.exec(t)).find((m) => m !== null);
  const pgMajor = fromNum ?? (pgText ? majorOf(Number(pgText[1]), Number(pgText[2])) : null);
  for (const t of texts) {
    const m = KINGBASE.exec(t);
    if (!m) continue;
    const [, version, release, c, build] = m.map((x) => (x === undefined ? undefined : Number(x)));
    const kingbase = {
      version: version as number,
      release: release as number,
      ...(c !== undefined ? { c } : {}),
      ...(build !== undefined ? { build } : {}),
    };
    return parsed({
      family: 'kingbase',
      major: `V${version}R${release}`,
      pgMajor,
      num,
      kingbase,
      text: m[0],
    });
  }
  if (pgMajor === null) return failed(`no version in ${JSON.stringify(texts.join(' | '))}`);
  return parsed({ family: 'postgresql', major: pgMajor, pgMajor, num, text: texts[0] ?? String(num) });
}

const majorOf = (first: number, second: number): string =>
  first >= 10 ? String(first) : `${first}.${second}`;

const majorOfNum = (n: number): string => majorOf(Math.floor(n / 10000), Math.floor(n / 100) % 100);
