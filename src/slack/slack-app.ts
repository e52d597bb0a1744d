import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import type { ChatSurface } from '../chatops/chat-surface';
import { routeKingbase, type ChatCommand, type ChatopsDeps } from '../chatops/chatops';
import { handleFollowUp } from '../chatops/follow-ups';
import type { FormValues } from '../chatops/runbook-form';
import { handleRunAction, RUN_ACTIONS, type RunAction } from '../chatops/run-actions';
import { FOLLOW_UP_ACTION } from '../render/follow-up-message';
import { planHashFromBlockId } from '../render/run-buttons';

// The Bolt app: `/kingbase`, the run buttons and the follow-up offers. Every request is acknowledged at once and the
// work runs after the ack, never inside Slack's 3 s window. Socket Mode when an app-level token is
// given, the HTTP receiver (signature always verified) otherwise.

export interface SlackAppOptions {
  readonly botToken: string;
  readonly signingSecret?: string;
  readonly appToken?: string;
  /** Web API base URL (tests point it at a local fake). */
  readonly slackApiUrl?: string;
  readonly deps: ChatopsDeps;
  readonly surface: ChatSurface;
  readonly commands: readonly ChatCommand[];
  readonly logger: Logger;
  /** GET /healthz on the receiver's port (HTTP mode; Socket Mode serves it on a server of its own). */
  readonly healthz?: (req: IncomingMessage, res: ServerResponse) => void;
  /** GET /metrics on the receiver's port (HTTP mode; Socket Mode: beside /healthz on its own server). */
  readonly metrics?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Socket Mode: told when the socket connects (true) or drops (false), for the health check. */
  readonly onSocketState?: (connected: boolean) => void;
}

const ANY_METHOD = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Slack retries a delivery it thinks was missed; a second click arrives twice: do each once. */
class SeenOnce {
  private readonly seen = new Map<string, number>();
  first(key: string, now = Date.now()): boolean {
    for (const [k, t] of this.seen) if (now - t > 10 * 60_000) this.seen.delete(k);
    if (this.seen.has(key)) return false;
    this.seen.set(key, now);
    return true;
  }
}

function boltLogger(log: Logger): BoltLogger {
  return {
    debug: (...m) => log.debug(m.join(' ')),
    info: (...m) => log.info(m.join(' ')),
    warn: (...m) => log.warn(m.join(' ')),
    error: (...m) => log.error(m.join(' ')),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

export function createSlackApp(o: SlackAppOptions): App {
  // A 429 is for kbops's own outbox to honour: never pause the whole client for 30 minutes.
  const clientOptions = {
    ...(o.slackApiUrl && { slackApiUrl: o.slackApiUrl }),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  };
  // Socket Mode's receiver is made here (as Bolt would make it) to watch its connection.
  const socket = o.appToken
    ? new SocketModeReceiver({
        appToken: o.appToken,
        logger: boltLogger(o.logger),
        installerOptions: { clientOptions },
      })
    : undefined;
  if (socket && o.onSocketState) {
    const tell = o.onSocketState;
    socket.client.on('connected', () => tell(true));
    for (const down of ['reconnecting', 'disconnecting', 'disconnected'])
      socket.client.on(down, () => tell(false));
  }
  const app = new App({
    token: o.botToken,
    ...(socket
      ? { receiver: socket }
      : {
          signingSecret: o.signingSecret ?? '',
          customRoutes: [
            ...(o.healthz ? [{ path: '/healthz', method: ['GET', 'HEAD'], handler: o.healthz }] : []),
            // Every method reaches the handler, so a wrong one is told 405 rather than Bolt's 404.
            ...(o.metrics ? [{ path: '/metrics', method: [...ANY_METHOD], handler: o.metrics }] : []),
          ],
        }),
    logger: boltLogger(o.logger),
    clientOptions,
  });
  const once = new SeenOnce();
  const background = (what: string, work: () => Promise<void>) => {
    void work().catch((err: unknown) => o.logger.error({ err }, `${what} failed`));
  };

  app.command('/kingbase', async ({ command, ack }) => {
    await ack();
    if (!once.first(`cmd:${command.trigger_id}`)) return;
    background('command', () =>
      routeKingbase(
        command.text,
        {
          deps: o.deps,
          actor: { user: command.user_id, channel: command.channel_id, triggerId: command.trigger_id },
          surface: o.surface,
        },
        o.commands,
      ),
    );
  });

  app.action(/^run\./, async ({ ack, body, action }) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button' || !('action_id' in action)) return;
    const id = action.action_id as RunAction;
    if (!(RUN_ACTIONS as readonly string[]).includes(id)) return;
    const channel = body.channel?.id ?? body.container?.channel_id ?? '';
    if (!once.first(`act:${body.user.id}:${id}:${action.value ?? ''}:${action.action_ts}`)) return;
    // The plan the clicked message showed: a vote binds to it, not to whatever the run holds now.
    const hash = planHashFromBlockId(action.block_id) ?? undefined;
    background('button', () =>
      handleRunAction(
        id,
        action.value ?? '',
        { deps: o.deps, actor: { user: body.user.id, channel }, surface: o.surface },
        hash,
      ),
    );
  });
  // A follow-up offer pressed: a request by the presser, as if typed (the value is checked again).
  app.action(FOLLOW_UP_ACTION, async ({ ack, body, action }) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button' || !('action_ts' in action)) return;
    const channel = body.channel?.id ?? body.container?.channel_id ?? '';
    if (!once.first(`offer:${body.user.id}:${action.value ?? ''}:${action.action_ts}`)) return;
    background('follow-up', () =>
      handleFollowUp(action.value ?? '', {
        deps: o.deps,
        actor: { user: body.user.id, channel },
        surface: o.surface,
      }),
    );
  });
  // One handler for every command's form: the callback id names the command.
  app.view(/^kingbase\./, async ({ ack, body, view }) => {
    await ack();
    const command = o.commands.find((c) => c.form?.id === view.callback_id);
    if (!command?.form) return;
    const args = command.form.args(view.state.values as FormValues);
    background('form', () =>
      command.run(
        { deps: o.deps, actor: { user: body.user.id, channel: view.private_metadata }, surface: o.surface },
        args,
      ),
    );
  });
  return app;
}
