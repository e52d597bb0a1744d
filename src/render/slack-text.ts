import { scrubText } from '../log/scrub-secrets';

// Text pieces for Slack mrkdwn. Slack reads `<…>` as links and mentions (`<!channel>`), so every piece
// of text that kbops did not write itself is escaped; free text (outputs, errors) is scrubbed first.

/** Escapes Slack's three control characters; the only escaping mrkdwn needs. */
export const esc = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * renderPlan's own redaction. A plan holds no secrets (they are resolved at run time), and approvers
 * must see the exact commands, so plan text is not run through scrubText, which also masks harmless
 * words such as KBOPS_SECRET_VARS=PGPASSWORD (the names of variables); should a password slip into a plan, it is still hidden.
 */
export const redactPlanText = (line: string): string =>
  line.replace(/(password\s*=\s*)('[^']*'|"[^"]*"|[^\s'"]+)/gi, '$1***');

/** Free text from outside (command output, error messages): secrets masked, then escaped. */
export const freeText = (text: string): string => esc(scrubText(text));

const SLACK_ID = /^[UW][A-Z0-9_]{1,40}$/;

/** `<@U123>` for a Slack user id; anything else (a CLI user) as plain `@name`. */
export const mention = (user: string): string => (SLACK_ID.test(user) ? `<@${user}>` : `@${esc(user)}`);

/** Inline code, unless the text holds a backtick (which would end it early). */
export const code = (text: string): string =>
  text.includes('`') || text === '' ? esc(text) : `\`${esc(text)}\``;

/** The first 12 hex digits of a plan hash: what kbops shows everywhere. */
export const shortHash = (hash: string): string => hash.slice(0, 12);

/** "2020-10-23 12:00 UTC". */
export const utc = (iso: string): string => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
};

/** A time each reader sees in their own time zone, with UTC as the fallback text. */
export const slackDate = (iso: string): string => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return esc(iso);
  return `<!date^${Math.floor(t / 1000)}^{date_short_pretty} {time}|${utc(iso)}>`;
};

/** 45s, 5m, 3h12m, 2d4h: a span as people read it (seconds only under a minute). */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}

/** "5m ago" (or "just now"); an unreadable time is shown as it is. */
export function ago(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return esc(iso);
  const ms = now.getTime() - t;
  return ms < 1000 ? 'just now' : `${span(ms)} ago`;
}

/** "1 step", "3 steps". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Status marks, as Slack emoji. */
export const MARK = {
  pass: ':white_check_mark:',
  warn: ':warning:',
  fail: ':x:',
  info: ':information_source:',
  wait: ':hourglass_flowing_sand:',
  run: ':arrow_forward:',
  undo: ':leftwards_arrow_with_hook:',
  stop: ':octagonal_sign:',
  alarm: ':rotating_light:',
} as const;
