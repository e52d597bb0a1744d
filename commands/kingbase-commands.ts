import type { ChatCommand } from '../src/chatops/chatops';
import { addNodeCommand } from './add-node/add-node-command';
import { cancelCommand } from './cancel/cancel-command';
import { helpCommand } from './help/help-command';
import { rollbackCommand } from './rollback/rollback-command';
import { runsCommand } from './runs/runs-command';
import { showCommand } from './show/show-command';
import { statusCommand } from './status/status-command';
import { unlockCommand } from './unlock/unlock-command';

/** Every `/kingbase` sub-command, one folder each. */
export const kingbaseCommands = (): readonly ChatCommand[] => [
  helpCommand,
  statusCommand,
  addNodeCommand,
  runsCommand,
  showCommand,
  cancelCommand,
  rollbackCommand,
  unlockCommand,
];
