// Where kbops talks to people: Slack (through the paced outbox) or the local console. Commands
// and the run notifier speak only this, so both front ends share every handler and builder.

export interface ChatMessage {
  readonly text: string;
  readonly blocks?: readonly unknown[];
}

export interface ChatImage {
  readonly filename: string;
  readonly title: string;
  readonly png: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export interface ChatSurface {
  /** A message in a channel, or a reply in a thread; resolves with its ts. */
  post(channel: string, message: ChatMessage, threadTs?: string): Promise<{ ts: string }>;
  /** Replace a message; frequent updates of one message may be coalesced to the latest. */
  update(channel: string, ts: string, message: ChatMessage): Promise<void>;
  /** Only `user` sees it. */
  ephemeral(channel: string, user: string, message: ChatMessage): Promise<void>;
  /** Long output as a file in the thread, never a truncated wall of text. */
  upload(channel: string, threadTs: string, title: string, content: string): Promise<void>;
  /** A picture (PNG) in the thread; absent where the front end cannot show one. */
  uploadImage?(channel: string, threadTs: string, image: ChatImage): Promise<void>;
  /** A form (a Slack modal) opened with a fresh trigger; absent where the front end has none. */
  openForm?(triggerId: string, view: Record<string, unknown>): Promise<void>;
}

/** Who did something, where. */
export interface Actor {
  readonly user: string;
  readonly channel: string;
  /** Slack's trigger for opening a modal (valid 3 s, once). */
  readonly triggerId?: string;
}
