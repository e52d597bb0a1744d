import type { Json } from '../core/json';
import type { StepOutcome } from '../core/run';
import { scrubText } from '../log/create-logger';

// How an action reports what went wrong, shared by the actions (run-action, run-file-edit): an
// expected outcome is a `failure` with a code, the message people read, and what they can do.

const TAIL_LINES = 20;

/** The last lines of a command's output, secrets scrubbed: enough to see why, small enough to journal. */
export const tail = (text: string): string =>
  scrubText(text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n'));

export const failure = (code: string, message: string, hint?: string, detail?: Json): StepOutcome => ({
  ok: false,
  kind: 'failure',
  failure: { code, message, ...(hint !== undefined && { hint }) },
  ...(detail !== undefined && { detail }),
});
