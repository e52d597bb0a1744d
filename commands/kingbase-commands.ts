import type { ChatCommand } from '../src/chatops/chatops';
import { RUNBOOKS } from '../src/runbooks';
import type { AnyRunbook } from '../src/runbooks/runbook';
import { cancelCommand } from './cancel/cancel-command';
import { helpCommand } from './help/help-command';
import { rollbackCommand } from './rollback/rollback-command';
import { runbookCommand } from './runbook/runbook-command';
import { runsCommand } from './runs/runs-command';
import { showCommand } from './show/show-command';
import { reportCommand } from './report/report-command';
import { statusCommand } from './status/status-command';
import { unlockCommand } from './unlock/unlock-command';

/** Every `/kingbase` sub-command: one folder per verb, and one per runbook of the registry. */
export function kingbaseCommands(runbooks: readonly AnyRunbook[] = RUNBOOKS): readonly ChatCommand[] {
  const commands: ChatCommand[] = [
    statusCommand,
    reportCommand,
    ...runbooks.map(runbookCommand),
    runsCommand,
    showCommand,
    cancelCommand,
    rollbackCommand,
    unlockCommand,
  ];
  // Help lists exactly what the router routes, generated, never a copy.
  return [helpCommand(() => commands), ...commands];
}
