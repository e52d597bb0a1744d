import { argsFromForm, formIdOf, runbookForm } from '../../../src/chatops/runbook-form';
import { addNodeRunbook } from '../../../src/runbooks/add-node/add-node-runbook';
import { viewProblems } from '../../e2e/support/fake-slack-blocks';

// A runbook's modal is generated from its input fields (add-node's here): Slack accepts it, it
// shows the chat's words and options but never the CLI-only fields, and what comes back is the
// words of `/kingbase add-node …`.

describe('the add-node form, generated', () => {
  it('is a modal Slack accepts, listing the clusters and remembering the channel', () => {
    const view = runbookForm(addNodeRunbook, ['ESHA', 'lab'], 'C123');
    expect(viewProblems(view)).toEqual([]);
    expect(view).toMatchObject({
      callback_id: 'kingbase.add-node',
      private_metadata: 'C123',
      title: { text: 'Add a data node' },
      submit: { text: 'Plan it' },
    });
    expect(formIdOf(addNodeRunbook)).toBe('kingbase.add-node');
    const blocks = view.blocks as Array<{
      block_id: string;
      optional: boolean;
      element: { type: string; max_length?: number; options?: Array<{ value: string }> };
    }>;
    // sshPort, sqlPort, clusterPath, dataDir and countTables are CLI-only: not in the form.
    expect(blocks.map((b) => [b.block_id, b.optional, b.element.type, b.element.max_length])).toEqual([
      ['cluster', false, 'static_select', undefined],
      ['host', false, 'plain_text_input', 253],
      ['name', true, 'plain_text_input', 58],
    ]);
    expect(blocks[0]!.element.options!.map((o) => o.value)).toEqual(['ESHA', 'lab']);
  });

  it('offers at most 100 clusters, each label within 75 characters', () => {
    const many = Array.from({ length: 130 }, (_, i) => `c${i}-${'x'.repeat(90)}`);
    const view = runbookForm(addNodeRunbook, many, 'C1');
    expect(viewProblems(view)).toEqual([]);
    const options = (view.blocks as Array<{ element: { options?: Array<{ text: { text: string } }> } }>)[0]!
      .element.options!;
    expect(options).toHaveLength(100);
    expect(Math.max(...options.map((o) => o.text.text.length))).toBe(75);
  });

  it('turns what was submitted into the words of /kingbase add-node', () => {
    const values = {
      cluster: { cluster: { selected_option: { value: 'ESHA' } } },
      host: { host: { value: ' 192.168.4.159 ' } },
      name: { name: { value: null } },
    };
    expect(argsFromForm(addNodeRunbook, values)).toEqual(['ESHA', '192.168.4.159']);
    expect(argsFromForm(addNodeRunbook, { ...values, name: { name: { value: 'srv159' } } })).toEqual([
      'ESHA',
      '192.168.4.159',
      'name=srv159',
    ]);
    // A value with spaces stays one word, for the command to refuse as one.
    expect(argsFromForm(addNodeRunbook, { ...values, host: { host: { value: 'a b' } } })).toEqual([
      'ESHA',
      'a b',
    ]);
  });
});
