import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kingbaseCommands } from '../../commands/kingbase-commands';
import { runConsole } from '../../src/console/kbops-console';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { writeArtifact } from '../support/artifacts';
import { keepStateDirArtifacts } from '../support/store-artifacts';

// The console front end in script mode against a lab of its own: UBOB asks for host 3, his own
// approval is refused, UCAROL approves, and the transcript ends with the verdict and success.

let pl: PrivateLab;
let stateDir: string;

beforeAll(async () => {
  pl = await startPrivateLab(70, 'console');
  stateDir = mkdtempSync(join(tmpdir(), 'kbops-console-'));
}, 120_000);

afterAll(async () => {
  await pl?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

it('plans, refuses self-approval, runs once approved, and prints it all', async () => {
  let transcript = '';
  const out = { write: (t: string) => (transcript += t) };
  const host = pl.lab.hosts[2].address;
  expect(host).toBe('127.0.0.73');
  const script = [
    '# a script: the same lines a person would type',
    'as UBOB',
    `/kingbase add-node lab ${host}`,
    'press <approve>',
    'as UCAROL',
    'press <approve>',
    'wait',
    'quit',
  ];
  // `<approve>`: the Approve button's number, read from the transcript as a person would.
  async function* lines() {
    for (const line of script) {
      const approve = /\[(\d+)\] Approve \(run\.approve R[A-Z0-9]+\)/.exec(transcript)?.[1];
      yield line.replace('<approve>', approve ?? 'none');
    }
  }
  await runConsole({
    inventory: pl.inventory,
    env: process.env,
    input: lines(),
    out,
    store: { KBOPS_STATE_DIR: stateDir },
    commands: kingbaseCommands(),
  });
  writeArtifact('console-transcript.txt', transcript);
  await keepStateDirArtifacts(stateDir, 'console');

  expect(transcript).toMatch(/^#1 \[console\]/m);
  expect(transcript).toMatch(/\[1\] Approve \(run\.approve R[A-Z0-9]{8}\)/);
  expect(transcript).toMatch(/\[2\] Reject \(run\.reject /);
  // The full plan follows the root in the thread, every step with its undo.
  expect(transcript).toMatch(/Full plan · add-node v1 · lab[^]*allow srv73 in pg_hba.conf on srv71[^]*undo:/);
  const refused = transcript.indexOf('(only UBOB sees, in console)');
  expect(refused).toBeGreaterThan(0);
  expect(transcript.slice(refused)).toMatch(/another approver must approve it/);
  expect(transcript).toContain('* UCAROL pressed Approve (run.approve R');
  expect(transcript).toMatch(/Verdict: passed/);
  expect(transcript).toMatch(/copy srv71 to srv73/);
  const lastLines = transcript.trimEnd().split('\n').slice(-2).join('\n');
  expect(lastLines).toMatch(/wait: no run is active; latest run R[A-Z0-9]{8} on lab: succeeded/);
  expect(transcript.indexOf('Verdict: passed')).toBeLessThan(transcript.lastIndexOf('succeeded'));
}, 300_000);
