import { SLACK_LIMITS as L } from './limits';
import type { Button, SlackMessage } from './slack-message';

// The limits checked from the outside: what a message would be refused (or silently cut) for. The
// builders' property tests use it, and so can the fake Slack Web API.

/** What in a message breaks a limit (empty: none). For tests and for the fake Slack server. */
export function messageProblems(message: SlackMessage): string[] {
  const p: string[] = [];
  const over = (what: string, len: number, max: number): void => {
    if (len > max) p.push(`${what}: ${len} > ${max}`);
  };
  const empty = (what: string, text: string | undefined): void => {
    if (text === undefined || text.trim() === '') p.push(`${what}: empty text`);
  };
  over('message JSON', JSON.stringify(message).length, L.messageJson);
  over('text', message.text.length, L.fallbackText);
  empty('text', message.text);
  over('blocks', message.blocks.length, L.blocksPerMessage);
  message.blocks.forEach((b, i) => {
    const at = `block ${i} (${b.type})`;
    if (b.block_id !== undefined) over(`${at} block_id`, b.block_id.length, L.blockId);
    if (b.type === 'header') {
      over(`${at} text`, b.text.text.length, L.headerText);
      empty(at, b.text.text);
    } else if (b.type === 'section') {
      if (b.text === undefined && b.fields === undefined) p.push(`${at}: neither text nor fields`);
      if (b.text) {
        over(`${at} text`, b.text.text.length, L.sectionText);
        empty(at, b.text.text);
      }
      over(`${at} fields`, b.fields?.length ?? 0, L.sectionFields);
      for (const f of b.fields ?? []) over(`${at} field`, f.text.length, L.fieldText);
    } else if (b.type === 'context') {
      over(`${at} elements`, b.elements.length, L.contextElements);
      for (const e of b.elements)
        if ('text' in e && typeof e.text === 'string') {
          over(`${at} text`, e.text.length, L.contextText);
          empty(at, e.text);
        }
    } else if (b.type === 'actions') {
      over(`${at} elements`, b.elements.length, L.actionsElements);
      for (const e of b.elements) if (e.type === 'button') p.push(...buttonProblems(`${at} button`, e));
    }
  });
  return p;
}

function buttonProblems(at: string, b: Button): string[] {
  const p: string[] = [];
  const over = (what: string, len: number, max: number): void => {
    if (len > max) p.push(`${at} ${what}: ${len} > ${max}`);
  };
  over('text', b.text.text.length, L.buttonText);
  over('value', b.value?.length ?? 0, L.buttonValue);
  over('action_id', b.action_id?.length ?? 0, L.actionId);
  if (b.confirm) {
    over('confirm title', b.confirm.title?.text.length ?? 0, L.confirmTitle);
    over('confirm text', b.confirm.text.text.length, L.confirmText);
    over('confirm button', b.confirm.confirm?.text.length ?? 0, L.confirmButton);
    over('deny button', b.confirm.deny?.text.length ?? 0, L.confirmButton);
  }
  return p;
}
