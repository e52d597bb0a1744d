import type { Condition, Probe, Step } from '../core/plan';
import type { Dialect } from '../dialects/dialect';
import { change, sql } from './step-builders';

// A data node made to read its configuration again (after an hba edit): a change (clients the new
// rules admit or refuse differ from then on) whose effect can be read back from the server.

/**
 * The server loaded its configuration after its hba file last changed. Read in a new session, this
 * is the server's own load time; the file's time has one-second resolution, so a reload in the
 * same second just before an edit would read as present (a plan edits, then reloads).
 */
export const hbaLoadedEffect = (d: Dialect): { probe: Probe; present: Condition } => ({
  probe: {
    kind: 'sql',
    sql:
      // V8R3's names are inferred ([I]): a wrong one fails the probe, read as "cannot tell", never "done".
      `select ${d.sql.confLoadTime}() >= ` +
      `(${d.sql.statFile}(current_setting('hba_file'))).modification as loaded`,
    params: [],
  },
  present: { kind: 'column-equals', column: 'loaded', value: true },
});

/**
 * Reload node `target` after `editStepId` edited its hba file. Nothing of its own to undo: the
 * edit's undo puts the file back and reloads again.
 */
export function reloadAfterHbaEdit(
  d: Dialect,
  id: string,
  title: string,
  target: string,
  editStepId: string,
): Step {
  return change(id, title, target, sql(`select ${d.sql.reloadConf}()`), [], hbaLoadedEffect(d), {
    note: `nothing of its own to undo: undoing ${editStepId} puts the file back and reloads again`,
  });
}
