import { addNodeArgsFromForm, addNodeForm } from '../../../commands/add-node/add-node-form';
import { viewProblems } from '../../e2e/support/fake-slack-blocks';

describe('the add-node form', () => {
  it('is a modal Slack accepts, listing the clusters and remembering the channel', () => {
    const view = addNodeForm(['ESHA', 'lab'], 'C123');
    expect(viewProblems(view)).toEqual([]);
    expect(view.private_metadata).toBe('C123');
    const blocks = view.blocks as Array<{
      block_id: string;
      element: { options?: Array<{ value: string }> };
    }>;
    expect(blocks.map((b) => b.block_id)).toEqual(['cluster', 'host', 'name']);
    expect(blocks[0]!.element.options!.map((o) => o.value)).toEqual(['ESHA', 'lab']);
  });

  it('turns what was submitted into the words of /kingbase add-node', () => {
    const values = {
      cluster: { cluster: { selected_option: { value: 'ESHA' } } },
      host: { host: { value: ' 192.168.4.159 ' } },
      name: { name: { value: null } },
    };
    expect(addNodeArgsFromForm(values)).toEqual(['ESHA', '192.168.4.159']);
    expect(addNodeArgsFromForm({ ...values, name: { name: { value: 'srv159' } } })).toEqual([
      'ESHA',
      '192.168.4.159',
      'name=srv159',
    ]);
  });
});
