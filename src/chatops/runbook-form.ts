import { chatOptionFields, positionalFields, type AnyRunbook, type InputField } from '../runbooks/runbook';

// A runbook's modal, generated from its input fields: the same words as `/kingbase <runbook> …`,
// for people who prefer a form. One view handler serves every runbook's form (by its id).

const PREFIX = 'kingbase.';

/** The modal's callback id: `kingbase.add-node`. */
export const formIdOf = (runbook: AnyRunbook): string => `${PREFIX}${runbook.id}`;

/** The fields a form shows: the chat's words and options, never the CLI-only ones. */
const formFields = (runbook: AnyRunbook): InputField[] => [
  ...positionalFields(runbook),
  ...chatOptionFields(runbook),
];

function element(f: InputField, clusters: readonly string[]): Record<string, unknown> {
  if (f.meta.kind === 'cluster')
    return {
      type: 'static_select',
      options: clusters
        .slice(0, 100)
        .map((c) => ({ text: { type: 'plain_text', text: c.slice(0, 75) }, value: c })),
    };
  if (f.meta.kind === 'number') return { type: 'number_input', is_decimal_allowed: false };
  return {
    type: 'plain_text_input',
    ...(f.meta.maxLength !== undefined && { max_length: f.meta.maxLength }),
  };
}

export function runbookForm(
  runbook: AnyRunbook,
  clusters: readonly string[],
  channel: string,
): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: formIdOf(runbook),
    private_metadata: channel, // where to post the plan
    title: { type: 'plain_text', text: runbook.form.title },
    submit: { type: 'plain_text', text: runbook.form.submit },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: formFields(runbook).map((f) => ({
      type: 'input',
      block_id: f.key,
      optional: f.optional,
      label: { type: 'plain_text', text: f.meta.label },
      element: { action_id: f.key, ...element(f, clusters) },
    })),
  };
}

export type FormValues = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value: string } | null }>
>;

/** The submitted form as the words of `/kingbase <runbook> …` (a value is never split again). */
export function argsFromForm(runbook: AnyRunbook, values: FormValues): string[] {
  const v = (f: InputField): string => {
    const input = values[f.key]?.[f.key];
    return (input?.selected_option?.value ?? input?.value ?? '').trim();
  };
  const words = positionalFields(runbook).map(v);
  // Trailing empty optional words are left out, as if not typed.
  while (words.length > 0 && words.at(-1) === '') words.pop();
  const options = chatOptionFields(runbook).flatMap((f) => (v(f) ? [`${f.key}=${v(f)}`] : []));
  return [...words, ...options];
}
