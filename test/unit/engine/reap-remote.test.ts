import { reapRemote } from '../../../src/engine/reap-remote';
import { FakeShell } from './fakes';

// What reapRemote makes of the host's answer (the script itself runs for real in
// test/unit/shell/remote-wrapper.test.ts and against sshd in test/integration/ssh-remote-shell.test.ts).

const group = { pgid: 4242, nonce: '0123456789abcdef' };

describe('reapRemote', () => {
  it('runs the reaper for that group and nonce, and reports a killed group gone', async () => {
    const shell = new FakeShell('n1').on(/KBOPS_EXEC/, () => ({ exitCode: 0, stdout: 'killed\ngone\n' }));
    expect(await reapRemote(shell, group)).toEqual({ gone: true, killed: true });
    expect(shell.calls).toHaveLength(1);
    expect(shell.calls[0]).toMatch(/ '4242' '0123456789abcdef'$/);
  });

  it('reports a group that was not (or no longer) ours as gone, killing nothing', async () => {
    const shell = new FakeShell('n1').on(/KBOPS_EXEC/, () => ({ exitCode: 0, stdout: 'absent\ngone\n' }));
    expect(await reapRemote(shell, group)).toEqual({ gone: true, killed: false });
  });

  it('is a failure with a hint when processes survive the kill', async () => {
    const shell = new FakeShell('n1').on(/KBOPS_EXEC/, () => ({
      exitCode: 3,
      stdout: 'killed\nalive 4242 4250 \n',
    }));
    const r = await reapRemote(shell, group);
    expect(r).toMatchObject({
      gone: false,
      failure: {
        code: 'remote-still-running',
        message: 'process group 4242 on n1 is still running after SIGKILL (pids 4242 4250)',
        hint: expect.stringContaining('ps -o pid,stat,args -g 4242'),
      },
    });
  });

  it('is a failure when the check itself cannot run', async () => {
    const shell = new FakeShell('n1').on(/KBOPS_EXEC/, () => ({ exitCode: 127, stderr: 'sh: not found\n' }));
    expect(await reapRemote(shell, group)).toMatchObject({
      gone: false,
      failure: { code: 'remote-still-running', message: expect.stringContaining('exit 127: sh: not found') },
    });
  });

  it('refuses a damaged journal entry without running anything', async () => {
    const shell = new FakeShell('n1');
    expect(await reapRemote(shell, { pgid: 1, nonce: group.nonce })).toMatchObject({
      gone: false,
      failure: { code: 'reap-invalid' },
    });
    expect(await reapRemote(shell, { pgid: 4242, nonce: "x'; reboot" })).toMatchObject({ gone: false });
    expect(shell.calls).toEqual([]);
  });
});
