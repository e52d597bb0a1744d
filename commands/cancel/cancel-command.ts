import type { ChatCommand } from '../../src/chatops/chatops';
import { runIdArg, usageProblem } from '../../src/chatops/command-args';
import { handleRunAction } from '../../src/chatops/run-actions';

const USAGE = 'cancel <run>';

export const cancelCommand: ChatCommand = {
  name: 'cancel',
  usage: USAGE,
  summary: 'stop a run at its current step (the remote command is killed)',
  run: async (ctx, args) => {
    const id = runIdArg(args[0]);
    if (!id.ok) return usageProblem(ctx, id.problem, USAGE);
    if (args.length > 1) return usageProblem(ctx, 'cancel takes one run id', USAGE);
    // The same checks and effects as the button on the run's message.
    await handleRunAction('run.cancel', id.value, ctx);
  },
};
