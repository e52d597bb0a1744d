import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { FileSnapshot, FileStore } from '../ports/file-store';
import type { RemoteShell } from '../ports/remote-shell';
import { and, cmd, privately, redirect } from '../shell/shell-command';

// Files on a host, through its shell. Content travels base64-encoded out and on stdin in, so any
// bytes survive; writes are atomic (temporary file in the same directory, then rename) and private
// until complete.

const MAX_READ = 64 * 1024 * 1024; // base64 characters

const fail = (what: string, path: string, stderr: string): Error =>
  new Error(`${what} ${path} failed: ${stderr.trim().split('\n').slice(-2).join(' ') || 'no message'}`);

export class RemoteFileStore implements FileStore {
  constructor(private readonly shell: RemoteShell) {}

  async read(path: string, signal?: AbortSignal): Promise<FileSnapshot | null> {
    const opts = signal ? { signal } : {};
    const stat = await this.shell.exec(cmd('stat', '-L', '-c', '%a', '--', path), opts);
    if (stat.exitCode !== 0) {
      if (/No such file/i.test(stat.stderr)) return null;
      throw fail('stat', path, stat.stderr);
    }
    // The whole file, not just the tail an exec keeps by default (config files, a few MB at most).
    const r = await this.shell.exec(cmd('base64', '-w', '0', '--', path), {
      ...opts,
      maxBufferedChars: MAX_READ,
    });
    if (r.exitCode !== 0) throw fail('read', path, r.stderr);
    if (r.truncated?.stdout) throw new Error(`read ${path} failed: larger than ${(MAX_READ / 4) * 3} bytes`);
    const content = Buffer.from(r.stdout.trim(), 'base64');
    return {
      content,
      sha256: createHash('sha256').update(content).digest('hex'),
      mode: parseInt(stat.stdout.trim(), 8),
    };
  }

  async write(
    path: string,
    content: Buffer,
    options: { mode?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    const mode = options.mode ?? (await this.read(path, options.signal))?.mode ?? 0o644;
    const tmp = posix.join(
      posix.dirname(path),
      `.${posix.basename(path)}.kbops-${randomBytes(4).toString('hex')}`,
    );
    // The temporary file is born 0600 (umask 077), so content that will end up 0600 (a password
    // file) is never readable by others, not even by a reader that opened it early; the requested
    // mode is set once the content is complete.
    const r = await this.shell.exec(
      and(
        privately(redirect(cmd('base64', '-d'), { stdout: tmp })),
        cmd('chmod', mode.toString(8), '--', tmp),
        cmd('mv', '-f', '--', tmp, path),
      ),
      { stdin: content.toString('base64'), ...(options.signal && { signal: options.signal }) },
    );
    if (r.exitCode !== 0) {
      await this.shell.exec(cmd('rm', '-f', '--', tmp)).catch(() => undefined);
      throw fail('write', path, r.stderr);
    }
  }

  async remove(path: string, signal?: AbortSignal): Promise<void> {
    const r = await this.shell.exec(cmd('rm', '-f', '--', path), signal ? { signal } : {});
    if (r.exitCode !== 0) throw fail('remove', path, r.stderr);
  }
}
