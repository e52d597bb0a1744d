import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attachUntilUp,
  failoverLogLines,
  keepFiles,
  putBackFiles,
  startUnlessRunning,
  thenMark,
} from '../../../src/shell/server-control';

// The drill's and the restore's scripts, run for real under /bin/sh on a temp tree, with small
// stand-ins for pg_ctl and the pcp tools.

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kbops-server-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const run = (argv: readonly string[]) => {
  const [prog, ...args] = argv;
  const r = spawnSync(prog!, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** An executable stand-in that logs its arguments and runs `body`. */
function tool(name: string, body: string): string {
  const path = join(root, name);
  writeFileSync(path, `#!/bin/sh\necho "$0 $*" >> ${join(root, 'calls')}\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
const calls = () => (existsSync(join(root, 'calls')) ? readFileSync(join(root, 'calls'), 'utf8') : '');

describe('startUnlessRunning', () => {
  it('starts a stopped server with its log, and leaves a running one alone', () => {
    const ctl = tool('pg_ctl', '[ "$1" = status ] && exit 3; exit 0');
    expect(run(startUnlessRunning(ctl, '/d', '/l.log')).code).toBe(0);
    expect(calls()).toContain('pg_ctl start -w -t 300 -D /d -l /l.log');
    const running = tool('pg_ctl2', 'exit 0');
    const r = run(startUnlessRunning(running, '/d', '/l.log'));
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('runs already: left as it is');
    expect(calls()).not.toContain('pg_ctl2 start');
  });
});

describe('attachUntilUp', () => {
  const pcp = { host: 'h', port: 9898, user: 'u' };
  it('attaches again while pcp_node_info does not show the backend up, then stops', () => {
    // Status code (field 3) is 3 (down) for the first 12 looks: the first attach "was dropped".
    const info = tool(
      'pcp_node_info',
      `n=$(cat ${root}/looks 2>/dev/null || echo 0); n=$((n + 1)); echo $n > ${root}/looks; ` +
        `[ $n -le 12 ] && echo "h 54321 3 0.5 down" || echo "h 54321 2 0.5 up"`,
    );
    const attach = tool('pcp_attach_node', 'exit 0');
    const r = run(attachUntilUp({ attach, info }, pcp, 2));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('backend 2 is up');
    expect(calls().match(/pcp_attach_node -h h -p 9898 -U u -w -n 2/g)).toHaveLength(2);
  }, 30_000);

  it('fails at once when the attach itself fails', () => {
    const info = tool('pcp_node_info', 'echo "h 54321 3 0.5 down"');
    const attach = tool('pcp_attach_node', 'exit 4');
    expect(run(attachUntilUp({ attach, info }, pcp, 0)).code).toBe(4);
  });
});

describe('keepFiles / putBackFiles', () => {
  it("puts a node's own files back over what a rewind copied, once kept (a repeat keeps the first copies)", () => {
    const d = join(root, 'data');
    const k = join(root, '.kbops', 'k-conf');
    mkdirSync(d);
    writeFileSync(join(d, 'postgresql.conf'), "listen_addresses = '127.0.0.11'\n");
    writeFileSync(join(d, 'standby.signal'), '');
    const names = ['postgresql.conf', 'standby.signal', 'recovery.conf'];
    expect(run(keepFiles(d, k, names)).code).toBe(0);
    // The rewind: the source's config, its standby.signal gone, a file the node never had.
    writeFileSync(join(d, 'postgresql.conf'), "listen_addresses = '127.0.0.13'\n");
    rmSync(join(d, 'standby.signal'));
    writeFileSync(join(d, 'recovery.conf'), 'copied');
    expect(run(keepFiles(d, k, names)).code).toBe(0); // a repeat after the rewind keeps nothing new
    expect(run(putBackFiles(d, k, names)).code).toBe(0);
    expect(readFileSync(join(d, 'postgresql.conf'), 'utf8')).toBe("listen_addresses = '127.0.0.11'\n");
    expect(existsSync(join(d, 'standby.signal'))).toBe(true);
    expect(existsSync(join(d, 'recovery.conf'))).toBe(false);
  });

  it('refuses to put back what was never kept', () => {
    const r = run(putBackFiles(join(root, 'data'), join(root, 'nothing'), ['postgresql.conf']));
    expect(r.code).toBe(70);
    expect(r.stderr).toContain('no kept copy of postgresql.conf');
  });
});

describe('thenMark', () => {
  it('leaves its marker only when the command succeeded', () => {
    const m = join(root, '.kbops', 'k-rewind.made');
    expect(run(thenMark(m, ['false'])).code).toBe(1);
    expect(existsSync(m)).toBe(false);
    expect(run(thenMark(m, ['true'])).code).toBe(0);
    expect(existsSync(m)).toBe(true);
  });
});

describe('failoverLogLines', () => {
  it("keeps a manager log's failover lines, the last eight, without the noise", () => {
    const log = join(root, 'pgpool.log');
    const lines = [
      'LOG: pool_reuse_block: blockid: 0',
      ...Array.from({ length: 10 }, (_, i) => `LOG: find_primary_node: standby node is ${i}`),
      'LOG: restarting myself',
    ];
    writeFileSync(log, `${lines.join('\n')}\n`);
    const r = run(failoverLogLines(log));
    expect(r.stdout.trim().split('\n')).toEqual(lines.slice(3, 11));
  });
});
