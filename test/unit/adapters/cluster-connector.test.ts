import { ClusterConnector, type CachedShell } from '../../../src/adapters/cluster-connector';
import type { ShellTarget } from '../../../src/adapters/connect-node';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import type { Target } from '../../../src/core/plan';
import type { ExecResult } from '../../../src/ports/remote-shell';
import { cmd } from '../../../src/shell/shell-command';

// The connector's shell cache: a login is shared while it lives, dropped the moment its connection
// closes or fails, and opened anew on the next use (e.g. the undo after an SSH cut).

class FakeLogin implements CachedShell {
  closed = false;
  private listeners: Array<() => void> = [];
  constructor(
    readonly host: string,
    readonly n: number,
  ) {}
  async exec(): Promise<ExecResult> {
    if (this.closed) throw new Error(`login ${this.n} is closed`);
    return { exitCode: 0, signal: null, stdout: `login ${this.n}`, stderr: '', durationMs: 1 };
  }
  onClosed(cb: () => void): void {
    if (this.closed) cb();
    else this.listeners.push(cb);
  }
  /** The connection dies (sshd killed, network gone): as ssh2 reports it, after the fact. */
  drop(): void {
    this.closed = true;
    for (const cb of this.listeners.splice(0)) cb();
  }
  async close(): Promise<void> {
    this.drop();
  }
}

const target: Target = { name: 'n1', host: '192.0.2.1', sshPort: 22, sqlPort: 5432 };
const other: Target = { name: 'n2', host: '192.0.2.2', sshPort: 22, sqlPort: 5432 };

function connector(fail: (n: number) => boolean = () => false) {
  const opened: FakeLogin[] = [];
  const targets: ShellTarget[] = [];
  const open = async (_c: ClusterConfig, t: ShellTarget): Promise<CachedShell> => {
    targets.push(t);
    const n = opened.length + 1;
    const login = new FakeLogin(t.host, n);
    opened.push(login);
    if (fail(n)) throw new Error(`connect ${n} refused`);
    return login;
  };
  return { c: new ClusterConnector({} as ClusterConfig, {}, open), opened, targets };
}

const said = async (c: ClusterConnector, t: Target = target): Promise<string> =>
  (await (await c.shell(t)).exec(cmd('true'))).stdout;

describe('ClusterConnector shell cache', () => {
  it('shares one login per host, also between concurrent first uses', async () => {
    const { c, opened } = connector();
    const [a, b] = await Promise.all([c.shell(target), c.shell(target)]);
    expect(a).toBe(b);
    expect(await said(c, other)).toBe('login 2');
    expect(opened).toHaveLength(2);
  });

  it('drops a login whose connection closed, and logs in anew on the next use', async () => {
    const { c, opened, targets } = connector();
    expect(await said(c)).toBe('login 1');
    opened[0]!.drop();
    expect(await said(c)).toBe('login 2');
    expect(await said(c)).toBe('login 2');
    expect(targets).toEqual([
      { host: '192.0.2.1', sshPort: 22 },
      { host: '192.0.2.1', sshPort: 22 },
    ]);
  });

  it('never hands out a login already closed whose close event has not been delivered yet', async () => {
    const { c, opened } = connector();
    await c.shell(target);
    opened[0]!.closed = true; // flag set, listeners not yet called
    expect(await said(c)).toBe('login 2');
  });

  it('retries a failed connect on the next use', async () => {
    const { c } = connector((n) => n === 1);
    await expect(c.shell(target)).rejects.toThrow('connect 1 refused');
    expect(await said(c)).toBe('login 2');
  });

  it('files() use the fresh login too', async () => {
    const { c, opened } = connector();
    await c.files(target);
    opened[0]!.drop();
    await c.files(target);
    expect(opened.map((l) => l.closed)).toEqual([true, false]);
  });

  it('close() stops a login still in progress (a host that never answers) instead of waiting for it', async () => {
    const signals: AbortSignal[] = [];
    const open = (_c: ClusterConfig, _t: ShellTarget, _e: unknown, o?: { signal?: AbortSignal }) =>
      new Promise<CachedShell>((_resolve, reject) => {
        const signal = o!.signal!;
        signals.push(signal);
        signal.addEventListener('abort', () => reject(signal.reason as Error));
      });
    const c = new ClusterConnector({} as ClusterConfig, {}, open);
    const pending = c.shell(target);
    pending.catch(() => undefined);
    await c.close();
    expect(signals.map((s) => s.aborted)).toEqual([true]);
    await expect(pending).rejects.toThrow('the connector was closed');
  });

  it('close() ends every login and forgets them', async () => {
    const { c, opened } = connector();
    await c.shell(target);
    await c.shell(other);
    await c.close();
    expect(opened.every((l) => l.closed)).toBe(true);
    expect(await said(c)).toBe('login 3');
  });
});
