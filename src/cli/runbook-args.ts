import { fieldsOf, flagOf, type AnyRunbook } from '../runbooks/runbook';

// `kbops plan <runbook> --flag value …`: the flags come from the runbook's input fields. Values stay
// strings (a number field becomes a number only when it is all digits) for the runbook's schema to
// judge; anything unexpected stops here with a message. `--approve-as <user>` names an approver of
// an unattended run (once per person), for runbooks that need more than their requester's word.

export type ParsedArgs =
  | {
      ok: true;
      input: Record<string, unknown>;
      yes: boolean;
      rollback: boolean;
      /** Slack user ids named with --approve-as, in order, each once. */
      approvers: string[];
    }
  | { ok: false; message: string };

/** A Slack user id, as the inventory's approvers lists hold them. */
const SLACK_USER = /^[UW][A-Z0-9_]{1,40}$/;

export function parseRunbookArgs(runbook: AnyRunbook, argv: readonly string[]): ParsedArgs {
  const fields = new Map(fieldsOf(runbook).map((f) => [`--${flagOf(f)}`, f]));
  const input: Record<string, unknown> = {};
  for (const f of fields.values()) if (f.meta.kind === 'list') input[f.key] = [];
  let yes = false;
  let rollback = true;
  const approvers: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const f = fields.get(a);
    if (a === '--yes') yes = true;
    else if (a === '--no-rollback') rollback = false;
    else if (a === '--approve-as') {
      const v = argv[++i];
      if (v === undefined) return { ok: false, message: `${a} needs a value` };
      if (!SLACK_USER.test(v))
        return {
          ok: false,
          message: `${a}: ${JSON.stringify(v.slice(0, 40))} is not a Slack user id (like U012AB3CD)`,
        };
      if (approvers.includes(v))
        return { ok: false, message: `${a}: ${v} is named twice (each approver counts once)` };
      approvers.push(v);
    } else if (f) {
      const v = argv[++i];
      if (v === undefined) return { ok: false, message: `${a} needs a value` };
      if (f.meta.kind === 'list') (input[f.key] as string[]).push(v);
      else if (f.meta.kind === 'number') input[f.key] = /^\d+$/.test(v) ? Number(v) : v;
      else input[f.key] = v;
    } else return { ok: false, message: `unknown argument ${JSON.stringify(a.slice(0, 40))}` };
  }
  return { ok: true, input, yes, rollback, approvers };
}
