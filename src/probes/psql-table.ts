// psql / ksql aligned output (the default format) back into rows of text:
//
//    node_id |   hostname    | port
//   ---------+---------------+-------
//    0       | 192.168.4.129 | 54321
//   (1 row)
//
// The header is the line above the first rule line (dashes, `+` between columns), so prompts, banners
// or notices before it are skipped. Rows end at the footer (`(2 rows)`, `(2 行记录)`: a parenthesised
// line starting with the count) or a blank line. Cells are split on `|`; when a row has more `|` than
// the header (a value holding one), the rule line's `+` positions cut it instead (exact for ASCII).
// Multi-line values (psql's `+` wrap markers) are not supported: query what fits on a line. Blank
// cells come back as '': psql prints NULL and '' alike.

const RULE = /^-+(\+-+)*$/;
const FOOTER = /^\(\d+\s*\S.*\)$/;

/** The first table in `text` as rows keyed by header name; [] when there is no table. */
export function parsePsqlTable(text: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/);
  const ruleAt = lines.findIndex((l, i) => i > 0 && RULE.test(l.trim()));
  if (ruleAt < 1) return [];
  const headerLine = lines[ruleAt - 1] as string;
  const ruleLine = lines[ruleAt] as string;
  const header = headerLine.split('|').map((h) => h.trim());
  const rows: Record<string, string>[] = [];
  const body = lines.slice(ruleAt + 1);
  for (const [i, line] of body.entries()) {
    const trimmed = line.trim();
    if (FOOTER.test(trimmed)) break;
    // A blank line is a one-column row holding NULL only when the footer follows it.
    if (trimmed === '' && !FOOTER.test(body[i + 1]?.trim() ?? '')) break;
    const cells = splitRow(line, header.length, ruleLine);
    const row: Record<string, string> = {};
    header.forEach((name, i) => {
      row[name] = cells[i] ?? '';
    });
    rows.push(row);
  }
  return rows;
}

function splitRow(line: string, columns: number, rule: string): string[] {
  const cells = line.split('|').map((c) => c.trim());
  if (cells.length <= columns) return cells;
  // The rule's `+` marks each column boundary at the same place as the header's `|`.
  const cuts = [...rule.matchAll(/\+/g)].map((m) => m.index);
  if (cuts.length !== columns - 1) return cells;
  const bounds = [-1, ...cuts, line.length];
  return bounds.slice(0, -1).map((start, i) => line.slice(start + 1, bounds[i + 1]).trim());
}
