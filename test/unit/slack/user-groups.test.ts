import type { Inventory } from '../../../src/config/normalise-inventory';
import { UserGroups } from '../../../src/slack/user-groups';

const access = (approvers: string[], admins: string[]) => ({
  requesters: { users: [], groups: [] },
  approvers: { users: [], groups: approvers },
  admins: { users: [], groups: admins },
  channels: [],
  approvals: 1,
  allowSelfApproval: false,
  approvalTtlMinutes: 60,
  autoRollback: true,
});
const inventory = {
  clusters: { a: { access: access(['SDBA'], ['SSRE']) }, b: { access: access(['SDBA'], []) } },
  reports: [],
} as unknown as Inventory;

describe('UserGroups', () => {
  it('knows nobody before the first read (fails closed), then maps users to their groups', async () => {
    const members: Record<string, string[]> = { SDBA: ['U1', 'U2'], SSRE: ['U2'] };
    const g = new UserGroups(inventory, { members: async (id) => members[id] ?? [] });
    expect(g.groupIds()).toEqual(['SDBA', 'SSRE']);
    expect(g.groupsOf('U2')).toEqual([]);
    await g.refresh();
    expect([g.groupsOf('U1'), g.groupsOf('U2'), g.groupsOf('U3')]).toEqual([['SDBA'], ['SDBA', 'SSRE'], []]);
  });

  it('keeps the last known members of a group Slack does not answer for, and says so', async () => {
    let fail = false;
    const errors: string[] = [];
    const g = new UserGroups(
      inventory,
      {
        members: async (id) => {
          if (fail && id === 'SSRE') throw new Error('ratelimited');
          return id === 'SSRE' ? ['U9'] : ['U1'];
        },
      },
      (id) => errors.push(id),
    );
    await g.refresh();
    fail = true;
    await g.refresh();
    expect(g.groupsOf('U9')).toEqual(['SSRE']);
    expect(errors).toEqual(['SSRE']);
  });
});
