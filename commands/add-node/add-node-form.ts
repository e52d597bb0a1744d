// The add-node modal: the same three inputs as the command line, for people who prefer a form.

export const ADD_NODE_FORM = 'kingbase.add-node';

export function addNodeForm(clusters: readonly string[], channel: string): Record<string, unknown> {
  const input = (id: string, label: string, element: Record<string, unknown>, optional = false) => ({
    type: 'input',
    block_id: id,
    optional,
    label: { type: 'plain_text', text: label },
    element: { action_id: id, ...element },
  });
  return {
    type: 'modal',
    callback_id: ADD_NODE_FORM,
    private_metadata: channel, // where to post the plan
    title: { type: 'plain_text', text: 'Add a data node' },
    submit: { type: 'plain_text', text: 'Plan it' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      input('cluster', 'Cluster', {
        type: 'static_select',
        options: clusters
          .slice(0, 100)
          .map((c) => ({ text: { type: 'plain_text', text: c.slice(0, 75) }, value: c })),
      }),
      input('host', 'Host (IPv4 address or name)', { type: 'plain_text_input', max_length: 253 }),
      input(
        'name',
        'Node name (default: srv + last number of the address)',
        { type: 'plain_text_input', max_length: 58 },
        true,
      ),
    ],
  };
}

type Values = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value: string } | null }>
>;

/** The submitted form as the words of `/kingbase add-node …`. */
export function addNodeArgsFromForm(values: Values): string[] {
  const v = (id: string) => values[id]?.[id];
  const cluster = v('cluster')?.selected_option?.value ?? '';
  const host = (v('host')?.value ?? '').trim();
  const name = (v('name')?.value ?? '').trim();
  return [cluster, host, ...(name ? [`name=${name}`] : [])];
}
