import type { ChatImage, ChatMessage, ChatSurface } from '../chatops/chat-surface';
import type { SlackBlock, SlackOutbox } from './slack-outbox';

/** Ephemeral messages (and modals) go straight out: they are answers to one person, not part of a run's thread. */
export interface EphemeralSender {
  postEphemeral(args: {
    channel: string;
    user: string;
    text: string;
    blocks?: readonly SlackBlock[];
  }): Promise<void>;
  /** Modals too answer one person directly. */
  openView?(triggerId: string, view: Record<string, unknown>): Promise<void>;
}

const toSlack = (m: ChatMessage) => ({ text: m.text, ...(m.blocks && { blocks: m.blocks as SlackBlock[] }) });

/** The chat surface on Slack: posts and updates through the paced outbox (one lane per channel). */
export class SlackSurface implements ChatSurface {
  constructor(
    private readonly outbox: SlackOutbox,
    private readonly ephemeralSender: EphemeralSender,
  ) {}

  async post(channel: string, message: ChatMessage, threadTs?: string): Promise<{ ts: string }> {
    const ts = await this.outbox.post(channel, toSlack(message), threadTs ? { threadTs } : {});
    if (ts === null) throw new Error(`could not post to ${channel}`);
    return { ts };
  }

  async update(channel: string, ts: string, message: ChatMessage): Promise<void> {
    this.outbox.update(channel, ts, `msg:${ts}`, toSlack(message));
  }

  async ephemeral(channel: string, user: string, message: ChatMessage): Promise<void> {
    await this.ephemeralSender.postEphemeral({ channel, user, ...toSlack(message) });
  }

  async openForm(triggerId: string, view: Record<string, unknown>): Promise<void> {
    if (!this.ephemeralSender.openView) throw new Error('this Slack surface cannot open forms');
    await this.ephemeralSender.openView(triggerId, view);
  }

  async upload(channel: string, threadTs: string, title: string, content: string): Promise<void> {
    await this.outbox.upload(channel, { filename: title, title, content }, { threadTs });
  }

  /** Throws when Slack refused it (the outbox has told its onError why). */
  async uploadImage(channel: string, threadTs: string, image: ChatImage): Promise<void> {
    const ok = await this.outbox.upload(
      channel,
      { filename: image.filename, title: image.title, content: Buffer.from(image.png) },
      { threadTs },
    );
    if (!ok) throw new Error(`could not upload ${image.filename} to ${channel}`);
  }
}
