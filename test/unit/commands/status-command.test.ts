import { statusCommand } from '../../../commands/status/status-command';
import type { CommandContext } from '../../../src/chatops/chatops';
import { fixtureRows } from '../probes/fixture';
import { chatopsHarness, closeSharedStore, labCluster, type Harness } from '../chatops/chatops-harness';
import { HealthConnector } from '../cluster/health-connector';

// `/kingbase status`: read through the deps' connector (closed after), shown through the golden-
// tested builder, one message per cluster, nothing read for someone who may not see it.

let h: Harness;
beforeEach(async () => {
  h = await chatopsHarness([await labCluster(), await labCluster({ name: 'other' })]);
});
afterAll(closeSharedStore);

/** The write-up's srv127 primary and srv129 standby; srv127's pool answers, srv129's does not. */
function writeupHosts(): HealthConnector {
  const c = new HealthConnector();
  const replication = fixtureRows('writeup/replication-one-standby.txt');
  c.answers.set('srv127', (sql) => {
    if (sql.includes('as in_recovery')) return [{ in_recovery: false, position: '0/180000D0' }];
    if (sql.includes('from sys_stat_replication')) return replication;
    if (sql.includes('as position')) return [{ position: '0/180000D0' }];
    return fixtureRows('writeup/slots-after.txt');
  });
  c.answers.set('srv129', () => [{ in_recovery: true, position: '0/180000D0' }]);
  c.answers.set('pool-srv127', () => fixtureRows('writeup/pool-nodes-two-up.txt'));
  return c;
}

const as = (user: string, connectorFor: CommandContext['deps']['connectorFor']): CommandContext => {
  const ctx = h.ctx(user);
  return { ...ctx, deps: { ...ctx.deps, connectorFor } };
};

describe('status', () => {
  it("shows one cluster's reading through statusMessage, and closes the connector", async () => {
    const hosts = writeupHosts();
    const connectorFor = jest.fn(() => hosts);
    await statusCommand.run(as('UALICE', connectorFor), ['lab']);
    expect(connectorFor).toHaveBeenCalledTimes(1);
    expect(hosts.closed).toBe(true);
    const said = h.surface.said;
    expect(said.map((s) => [s.kind, s.user])).toEqual([['ephemeral', 'UALICE']]);
    expect(said[0]!.text).toBe(
      "lab: 2/2 nodes answer, 2/2 pool nodes up on srv127, srv129's pool did not answer, 1 of 1 standbys streaming",
    );
    const shown = JSON.stringify(said[0]!.blocks);
    expect(shown).toContain(':white_check_mark: all 2 nodes answer; srv127 is the primary');
    expect(shown).toContain("srv129's pool: the cluster manager did not answer");
    // The pool is reached with the cluster's own SSH port for that node, never a hard-coded one.
    const pool = hosts.asked.find((a) => a.target.name === 'pool-srv127')!.target;
    expect(pool).toMatchObject({
      host: '192.168.4.127',
      sshPort: 22,
      sqlPort: 9999,
      sqlHost: '192.168.4.127',
    });
  });

  it('reads every cluster the person may see, one message each', async () => {
    const connectors: HealthConnector[] = [];
    await statusCommand.run(
      as('UALICE', () => {
        const c = writeupHosts();
        connectors.push(c);
        return c;
      }),
      [],
    );
    expect(h.surface.said.map((s) => s.text.split(':')[0])).toEqual(['lab', 'other']);
    expect(connectors.every((c) => c.closed)).toBe(true);
  });

  it('says a cluster cannot be read now when no connector can be made, and still shows the others', async () => {
    let n = 0;
    await statusCommand.run(
      as('UALICE', () => {
        if (n++ === 0) throw new Error('cannot read /k/id: password=hunter2hunter2');
        return writeupHosts();
      }),
      [],
    );
    expect(h.surface.said[0]!.text).toMatch(/^\*lab\*: cannot read it now \(/);
    expect(h.surface.wire()).not.toContain('hunter2hunter2');
    expect(h.surface.said[1]!.text).toMatch(/^other: /);
  });

  it('connects nowhere for someone who may not read the cluster', async () => {
    const connectorFor = jest.fn(() => writeupHosts());
    await statusCommand.run(as('UMALLORY', connectorFor), ['lab']);
    expect(connectorFor).not.toHaveBeenCalled();
    expect(h.surface.last()?.text).toContain('You may not see the status of lab here');
  });
});
