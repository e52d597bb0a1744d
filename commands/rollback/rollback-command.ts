import type { ChatCommand } from '../../src/chatops/chatops';
import { runIdArg, usageProblem } from '../../src/chatops/command-args';
import { handleRunAction } from '../../src/chatops/run-actions';

const USAGE = 'rollback <run>';

export const rollbackCommand: ChatCommand = {
  name: 'rollback',
  usage: USAGE,
  summary: "undo a failed, cancelled or interrupted run's changes, newest first",
  run: async (ctx, args) => {
    const id = runIdArg(args[0]);
    if (!id.ok) return usageProblem(ctx, id.problem, USAGE);
    if (args.length > 1) return usageProblem(ctx, 'rollback takes one run id', USAGE);
    // The same checks and effects as the button on the run's message.
    await handleRunAction('run.rollback', id.value, ctx);
  },
};
