// A named check with a verdict and, when it does not pass, what to do: preflight results, common
// cluster checks and health readings all speak this, so every front end shows them the same way.

export interface Check {
  readonly name: string;
  readonly status: 'pass' | 'warn' | 'fail';
  readonly message: string;
  readonly hint?: string;
}

export const pass = (name: string, message: string): Check => ({ name, status: 'pass', message });
export const warn = (name: string, message: string, hint: string): Check => ({
  name,
  status: 'warn',
  message,
  hint,
});
export const fail = (name: string, message: string, hint: string): Check => ({
  name,
  status: 'fail',
  message,
  hint,
});

/** Warnings do not stop a plan; a single failure does. */
export const checksPassed = (checks: readonly Check[]): boolean => checks.every((c) => c.status !== 'fail');

/** Checks as text lines (the CLI, the console): one line each, the hint of a warning or failure below. */
export function renderChecks(checks: readonly Check[]): string {
  const mark = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  return checks
    .map(
      (c) =>
        `${mark[c.status]} ${c.name}: ${c.message}${c.hint && c.status !== 'pass' ? `\n       → ${c.hint}` : ''}`,
    )
    .join('\n');
}
