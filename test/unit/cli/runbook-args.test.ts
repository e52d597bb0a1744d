import { EXIT, type CommandIo } from '../../../src/cli/cli-io';
import { planCommand } from '../../../src/cli/plan-command';
import { parseRunbookArgs } from '../../../src/cli/runbook-args';
import { addNodeRunbook } from '../../../src/runbooks/add-node/add-node-runbook';
import { writeupCluster } from '../runbooks/writeup-snapshot';

// `kbops plan|run <runbook> …` argument parsing, from the runbook's input fields (add-node's here):
// flags map to the input, values stay strings (ports become numbers only when they are all
// digits), and anything unexpected stops with a message.

const parseAddNodeArgs = (argv: readonly string[]) => parseRunbookArgs(addNodeRunbook, argv);

describe('parseRunbookArgs (add-node)', () => {
  it('maps every flag to its input key', () => {
    expect(
      parseAddNodeArgs([
        ...['--cluster', 'ESHA', '--host', '192.168.4.159', '--name', 'srv159'],
        ...['--ssh-port', '22', '--sql-port', '54321', '--data-dir', '/d', '--cluster-path', '/c'],
      ]),
    ).toEqual({
      ok: true,
      input: {
        cluster: 'ESHA',
        host: '192.168.4.159',
        name: 'srv159',
        sshPort: 22,
        sqlPort: 54321,
        dataDir: '/d',
        clusterPath: '/c',
        countTables: [],
      },
      yes: false,
      rollback: true,
      approvers: [],
    });
  });

  it('collects repeated --count-table in order', () => {
    const r = parseAddNodeArgs(['--count-table', 't10', '--cluster', 'ESHA', '--count-table', 'prod.t10']);
    expect(r).toMatchObject({ ok: true, input: { cluster: 'ESHA', countTables: ['t10', 'prod.t10'] } });
  });

  it('reads --yes and --no-rollback anywhere', () => {
    expect(parseAddNodeArgs(['--yes', '--host', 'h', '--no-rollback'])).toEqual({
      ok: true,
      input: { host: 'h', countTables: [] },
      yes: true,
      rollback: false,
      approvers: [],
    });
  });

  it('keeps a port that is not all digits as text, for the parameter check to refuse', () => {
    for (const v of ['22x', '-1', '0x16', '1e3', '']) {
      expect(parseAddNodeArgs(['--ssh-port', v])).toMatchObject({ ok: true, input: { sshPort: v } });
    }
    expect(parseAddNodeArgs(['--sql-port', '070000'])).toMatchObject({ input: { sqlPort: 70000 } });
  });

  it('keeps values verbatim, whatever they hold (they are checked later, never run)', () => {
    expect(parseAddNodeArgs(['--host', '127.0.0.13;touch pwned'])).toMatchObject({
      ok: true,
      input: { host: '127.0.0.13;touch pwned' },
    });
  });

  it.each([
    '--cluster',
    '--host',
    '--name',
    '--ssh-port',
    '--sql-port',
    '--data-dir',
    '--cluster-path',
    '--count-table',
  ])('says %s needs a value when it comes last', (flag) => {
    expect(parseAddNodeArgs(['--yes', flag])).toEqual({
      ok: false,
      message: `${flag} needs a value`,
    });
  });

  it('names an unknown argument, cut to 40 characters', () => {
    expect(parseAddNodeArgs(['--host', 'h', '--force'])).toEqual({
      ok: false,
      message: 'unknown argument "--force"',
    });
    const long = `--${'x'.repeat(38)}TAIL${'y'.repeat(10_000)}`;
    const r = parseAddNodeArgs([long]);
    expect(r).toEqual({ ok: false, message: `unknown argument "--${'x'.repeat(38)}"` });
    expect(parseAddNodeArgs(['192.168.4.159'])).toEqual({
      ok: false,
      message: 'unknown argument "192.168.4.159"',
    });
    expect(parseAddNodeArgs(['--host=192.168.4.159'])).toEqual({
      ok: false,
      message: 'unknown argument "--host=192.168.4.159"',
    });
  });

  it('collects --approve-as users in order, anywhere among the flags', () => {
    expect(
      parseAddNodeArgs(['--approve-as', 'UCAROL', '--cluster', 'ESHA', '--yes', '--approve-as', 'W0DAVE']),
    ).toEqual({
      ok: true,
      input: { cluster: 'ESHA', countTables: [] },
      yes: true,
      rollback: true,
      approvers: ['UCAROL', 'W0DAVE'],
    });
  });

  it.each([
    [['--approve-as'], '--approve-as needs a value'],
    [['--approve-as', '--yes'], '--approve-as: "--yes" is not a Slack user id (like U012AB3CD)'],
    [['--approve-as', 'carol'], '--approve-as: "carol" is not a Slack user id (like U012AB3CD)'],
    [['--approve-as', 'U1;rm -rf /'], '--approve-as: "U1;rm -rf /" is not a Slack user id (like U012AB3CD)'],
    [
      ['--approve-as', 'UBOB', '--approve-as', 'UBOB'],
      '--approve-as: UBOB is named twice (each approver counts once)',
    ],
  ])('refuses %j', (argv, message) => {
    expect(parseAddNodeArgs(argv)).toEqual({ ok: false, message });
  });

  it('escapes what it echoes (JSON string), so control characters cannot reach the terminal raw', () => {
    const r = parseAddNodeArgs(['\u001b[2Jx\n']);
    expect(r).toEqual({ ok: false, message: 'unknown argument "\\u001b[2Jx\\n"' });
  });
});

describe('planCommand (add-node): usage errors', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const sink: CommandIo = { out: (t) => out.push(t), err: (t) => err.push(t), tty: false };
    return { sink, out, err };
  };

  it('exits 64 with the usage for a bad argument, before reading the cluster', async () => {
    const { sink, out, err } = io();
    const code = await planCommand(addNodeRunbook, ['--bogus'], 'plan', {
      inventory: { clusters: {}, reports: [] },
      env: {},
      io: sink,
      store: {},
      runbooks: [addNodeRunbook],
    });
    expect(code).toBe(64);
    expect(out).toEqual([]);
    expect(err.join('\n')).toBe(
      'kbops: unknown argument "--bogus"\nusage: kbops plan add-node --cluster <cluster> --host <host> [--name <node>] [--ssh-port <port>] [--sql-port <port>] [--cluster-path <path>] [--data-dir <path>] [--count-table <table>]…',
    );
  });

  it('exits 64 and says why for a bad value or an unknown cluster, without connecting anywhere', async () => {
    const ESHA = await writeupCluster();
    for (const [argv, says] of [
      [['--cluster', 'ESHA', '--host', '$(reboot)'], 'kbops: host: not an IPv4 address or hostname'],
      [
        ['--cluster', 'NOPE', '--host', '192.168.4.159'],
        'kbops: no cluster named "NOPE"\n  known clusters: ESHA',
      ],
      [
        ['--cluster', 'ESHA', '--host', '192.168.4.159', '--ssh-port', '22x'],
        'kbops: sshPort: must be a port number',
      ],
    ] as const) {
      const { sink, out, err } = io();
      const code = await planCommand(addNodeRunbook, [...argv, '--yes'], 'run', {
        inventory: { clusters: { ESHA }, reports: [] },
        env: {},
        io: sink,
        store: {},
        runbooks: [addNodeRunbook],
      });
      expect(code).toBe(EXIT.usage);
      expect(out).toEqual([]);
      expect(err.join('\n').startsWith(says)).toBe(true);
    }
  });

  it('exits 64 for --approve-as without run … --yes, before reading the cluster', async () => {
    for (const [mode, argv] of [
      ['plan', ['--cluster', 'ESHA', '--host', 'h', '--approve-as', 'UCAROL']],
      ['run', ['--cluster', 'ESHA', '--host', 'h', '--approve-as', 'UCAROL']],
    ] as const) {
      const { sink, out, err } = io();
      const code = await planCommand(addNodeRunbook, argv, mode, {
        inventory: { clusters: {}, reports: [] },
        env: {},
        io: sink,
        store: {},
        runbooks: [addNodeRunbook],
      });
      expect([code, out]).toEqual([EXIT.usage, []]);
      expect(err.join('\n').split('\n')[0]).toBe(
        'kbops: --approve-as names who approves a run: it goes with run … --yes',
      );
    }
  });

  it('gives every outcome its own exit code', () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
    expect(EXIT).toMatchObject({ ok: 0, failed: 1, config: 2, preflight: 3, usage: 64 });
  });
});
