// Block Kit limits Slack enforces server-side, phrased like Slack's own response_metadata.messages
// ("[ERROR] <what> [json-pointer:<where>]") so a failing test points at the offending field.

type Json = Record<string, unknown>;

const BLOCK_TYPES = new Set([
  'section',
  'header',
  'divider',
  'actions',
  'context',
  'image',
  'input',
  'rich_text',
  'markdown',
  'file',
  'video',
]);
const TEXT_TYPES = ['plain_text', 'mrkdwn'];
const PLAIN = ['plain_text'];

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Problems {
  readonly messages: string[] = [];

  add(what: string, pointer: string): void {
    this.messages.push(`[ERROR] ${what} [json-pointer:${pointer}]`);
  }

  maxLength(value: unknown, max: number, pointer: string): void {
    if (typeof value === 'string' && value.length > max)
      this.add(`must be less than ${max + 1} characters`, pointer);
  }

  maxItems(value: unknown, max: number, pointer: string): void {
    if (Array.isArray(value) && value.length > max) this.add(`no more than ${max} items allowed`, pointer);
  }

  /** A text object: the allowed types, non-empty text (Slack refuses ""), and the field's length limit. */
  text(value: unknown, pointer: string, max: number, types: readonly string[]): void {
    if (!isObject(value)) return this.add('must be a text object', pointer);
    if (!types.includes(String(value.type)))
      this.add(`must be one of: ${types.join(', ')}`, `${pointer}/type`);
    if (typeof value.text !== 'string' || value.text.length === 0) {
      return this.add('must be more than 0 characters', `${pointer}/text`);
    }
    this.maxLength(value.text, max, `${pointer}/text`);
  }

  confirm(value: unknown, pointer: string): void {
    if (!isObject(value)) return this.add('must be a confirmation dialog object', pointer);
    this.text(value.title, `${pointer}/title`, 100, PLAIN);
    this.text(value.text, `${pointer}/text`, 300, TEXT_TYPES);
    this.text(value.confirm, `${pointer}/confirm`, 30, PLAIN);
    this.text(value.deny, `${pointer}/deny`, 30, PLAIN);
  }

  /** Interactive elements: buttons, selects, overflow menus, inputs' elements. */
  element(value: unknown, pointer: string): void {
    if (!isObject(value) || typeof value.type !== 'string') return this.add('must be an element', pointer);
    this.maxLength(value.action_id, 255, `${pointer}/action_id`);
    if (value.confirm !== undefined) this.confirm(value.confirm, `${pointer}/confirm`);
    if (value.type === 'button') {
      this.text(value.text, `${pointer}/text`, 75, PLAIN);
      this.maxLength(value.value, 2000, `${pointer}/value`);
      this.maxLength(value.url, 3000, `${pointer}/url`);
      if (value.style !== undefined && value.style !== 'primary' && value.style !== 'danger') {
        this.add('must be one of: primary, danger', `${pointer}/style`);
      }
    }
    if (Array.isArray(value.options)) {
      this.maxItems(value.options, value.type === 'overflow' ? 5 : 100, `${pointer}/options`);
      value.options.forEach((option: unknown, i) => {
        const at = `${pointer}/options/${i}`;
        if (!isObject(option)) return this.add('must be an option object', at);
        this.text(option.text, `${at}/text`, 75, TEXT_TYPES);
        this.maxLength(option.value, 150, `${at}/value`);
      });
    }
  }

  block(value: unknown, pointer: string): void {
    if (!isObject(value) || typeof value.type !== 'string') return this.add('must be a block', pointer);
    if (!BLOCK_TYPES.has(value.type)) return this.add(`unsupported type: ${value.type}`, `${pointer}/type`);
    this.maxLength(value.block_id, 255, `${pointer}/block_id`);
    switch (value.type) {
      case 'section':
        if (value.text === undefined && value.fields === undefined) {
          this.add('must provide either text or fields', pointer);
        }
        if (value.text !== undefined) this.text(value.text, `${pointer}/text`, 3000, TEXT_TYPES);
        if (value.fields !== undefined) {
          if (!Array.isArray(value.fields)) return this.add('must be an array', `${pointer}/fields`);
          this.maxItems(value.fields, 10, `${pointer}/fields`);
          value.fields.forEach((f: unknown, i) => this.text(f, `${pointer}/fields/${i}`, 2000, TEXT_TYPES));
        }
        if (value.accessory !== undefined) this.element(value.accessory, `${pointer}/accessory`);
        return;
      case 'header':
        return this.text(value.text, `${pointer}/text`, 150, PLAIN);
      case 'actions':
        if (!Array.isArray(value.elements) || value.elements.length === 0) {
          return this.add('must provide at least 1 element', `${pointer}/elements`);
        }
        this.maxItems(value.elements, 25, `${pointer}/elements`);
        value.elements.forEach((e: unknown, i) => this.element(e, `${pointer}/elements/${i}`));
        return;
      case 'context':
        if (!Array.isArray(value.elements) || value.elements.length === 0) {
          return this.add('must provide at least 1 element', `${pointer}/elements`);
        }
        this.maxItems(value.elements, 10, `${pointer}/elements`);
        value.elements.forEach((e: unknown, i) => {
          if (isObject(e) && e.type === 'image') return;
          this.text(e, `${pointer}/elements/${i}`, 3000, TEXT_TYPES);
        });
        return;
      case 'input':
        this.text(value.label, `${pointer}/label`, 2000, PLAIN);
        return this.element(value.element, `${pointer}/element`);
      default:
        return;
    }
  }
}

/**
 * Slack's refusals for a `blocks` argument: `invalid_blocks_format` when it is not an array at all,
 * else the list of `[ERROR]` messages that come with `invalid_blocks` (empty when the blocks are valid).
 */
export function blockProblems(
  blocks: unknown,
  maxBlocks: number,
  pointer = '/blocks',
): 'invalid_blocks_format' | string[] {
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  const problems = new Problems();
  problems.maxItems(blocks, maxBlocks, pointer);
  blocks.forEach((block: unknown, i) => problems.block(block, `${pointer}/${i}`));
  return problems.messages;
}

/** Modal/home view checks Slack makes on views.open/update (it answers `invalid_arguments`). */
export function viewProblems(view: unknown): string[] {
  if (!isObject(view)) return ['[ERROR] must be a view object [json-pointer:/view]'];
  const problems = new Problems();
  if (view.type !== 'modal' && view.type !== 'home')
    problems.add('must be one of: modal, home', '/view/type');
  if (view.type === 'modal') {
    problems.text(view.title, '/view/title', 24, PLAIN);
    if (view.submit !== undefined) problems.text(view.submit, '/view/submit', 24, PLAIN);
    if (view.close !== undefined) problems.text(view.close, '/view/close', 24, PLAIN);
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) problems.add('must provide submit with input blocks', '/view');
  }
  problems.maxLength(view.private_metadata, 3000, '/view/private_metadata');
  problems.maxLength(view.callback_id, 255, '/view/callback_id');
  problems.maxLength(view.external_id, 255, '/view/external_id');
  const blocks = blockProblems(view.blocks, 100, '/view/blocks');
  if (blocks === 'invalid_blocks_format') problems.add('must be an array', '/view/blocks');
  else problems.messages.push(...blocks);
  return problems.messages;
}
