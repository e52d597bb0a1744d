import type { types } from '@slack/bolt';

// Block Kit pieces the builders assemble. Builders return plain data ({ text, blocks }), pure and
// deterministic, so goldens can pin them; every message goes through fitMessage (limits.ts) last.

export type KnownBlock = types.KnownBlock;
export type SectionBlock = types.SectionBlock;
export type HeaderBlock = types.HeaderBlock;
export type ContextBlock = types.ContextBlock;
export type ActionsBlock = types.ActionsBlock;
export type Button = types.Button;

/** What every builder returns: `text` is the notification / fallback text. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: KnownBlock[];
}

export const header = (text: string): HeaderBlock => ({
  type: 'header',
  text: { type: 'plain_text', text, emoji: true },
});

/** A section of mrkdwn text (already escaped where it holds outside text). */
export const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** A section laid out as two columns of mrkdwn fields. */
export const fieldsSection = (fields: readonly string[]): SectionBlock => ({
  type: 'section',
  fields: fields.map((text) => ({ type: 'mrkdwn', text })),
});

/** Small grey mrkdwn lines under a message part. */
export const context = (...texts: string[]): ContextBlock => ({
  type: 'context',
  elements: texts.map((text) => ({ type: 'mrkdwn', text })),
});

export interface ButtonSpec {
  readonly text: string;
  readonly actionId: string;
  readonly value: string;
  readonly style?: 'primary' | 'danger';
  readonly confirm?: {
    readonly title: string;
    readonly text: string;
    readonly confirm: string;
    readonly deny: string;
    readonly style?: 'primary' | 'danger';
  };
}

export function button(spec: ButtonSpec): Button {
  const b: Button = {
    type: 'button',
    text: { type: 'plain_text', text: spec.text, emoji: true },
    action_id: spec.actionId,
    value: spec.value,
  };
  if (spec.style !== undefined) b.style = spec.style;
  if (spec.confirm !== undefined) {
    const c = spec.confirm;
    b.confirm = {
      title: { type: 'plain_text', text: c.title },
      text: { type: 'mrkdwn', text: c.text },
      confirm: { type: 'plain_text', text: c.confirm },
      deny: { type: 'plain_text', text: c.deny },
      ...(c.style !== undefined && { style: c.style }),
    };
  }
  return b;
}

export const actions = (elements: Button[], blockId?: string): ActionsBlock => ({
  type: 'actions',
  ...(blockId !== undefined && { block_id: blockId }),
  elements,
});
