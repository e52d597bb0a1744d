import { z } from 'zod';
import { progressReadersOf } from '../../../src/app/compose-runs';
import { demandedPolicy } from '../../../src/core/approval-policy';
import { sealPlan } from '../../../src/core/plan';
import { runUnattended } from '../../../src/engine/run-unattended';
import { RUNBOOKS } from '../../../src/runbooks';
import { prepareRun, resolveInput } from '../../../src/runbooks/prepare-run';
import {
  chatUsage,
  cliUsage,
  field,
  fieldValue,
  fieldsOf,
  runbookProblems,
  type AnyRunbook,
  type Runbook,
} from '../../../src/runbooks/runbook';
import { leaveNoteRunbook } from '../../fixtures/leave-note/leave-note-runbook';
import { writeupCluster } from './writeup-snapshot';

// The Runbook contract: the front ends' forms come from the input schema's field descriptions,
// a badly described runbook is caught, the input is checked before anything connects, and what a
// runbook demands of its approvers can be raised by an inventory but never lowered.

const tiny = (over: Partial<Runbook> = {}): AnyRunbook => ({
  ...(leaveNoteRunbook as unknown as AnyRunbook),
  ...over,
});

describe('generated usages', () => {
  it('chat: positional words, then chat options; CLI: every field as a flag, lists repeated', () => {
    expect(chatUsage(leaveNoteRunbook as unknown as AnyRunbook)).toBe(
      'leave-note <cluster> <node> [note=<text>]',
    );
    expect(cliUsage(leaveNoteRunbook as unknown as AnyRunbook)).toBe(
      'leave-note --cluster <cluster> --node <node> [--note <text>]',
    );
    const addNode = RUNBOOKS.find((r) => r.id === 'add-node')!;
    expect(chatUsage(addNode)).toBe('add-node <cluster> <host> [name=<node>]');
    expect(cliUsage(addNode)).toBe(
      'add-node --cluster <cluster> --host <host> [--name <node>] [--ssh-port <port>] [--sql-port <port>] [--cluster-path <path>] [--data-dir <path>] [--count-table <table>]…',
    );
  });

  it('turns a number field’s all-digit word into a number, and leaves anything else for the schema', () => {
    const addNode = RUNBOOKS.find((r) => r.id === 'add-node')!;
    const sshPort = fieldsOf(addNode).find((f) => f.key === 'sshPort')!;
    expect([fieldValue(sshPort, '2222'), fieldValue(sshPort, '22x')]).toEqual([2222, '22x']);
    const host = fieldsOf(addNode).find((f) => f.key === 'host')!;
    expect(fieldValue(host, '123')).toBe('123');
  });
});

describe('runbookProblems', () => {
  it('finds nothing wrong with the registry', () => {
    expect(RUNBOOKS.flatMap(runbookProblems)).toEqual([]);
    expect(new Set(RUNBOOKS.map((r) => r.id)).size).toBe(RUNBOOKS.length);
  });

  it('names each mistake: id, title length, cluster first, positions, flags, approvals, undescribed fields', () => {
    const input = z.strictObject({
      host: field(z.string(), { kind: 'text', label: 'Host', placeholder: 'host', position: 1 }),
      cluster: field(z.string(), { kind: 'cluster', label: 'Cluster', placeholder: 'cluster', position: 0 }),
      port: field(z.number(), { kind: 'number', label: 'Port', placeholder: 'port', flag: 'host' }),
    });
    expect(
      runbookProblems(
        tiny({
          id: 'Bad_Id',
          form: { title: 'x'.repeat(25), submit: 'Go' },
          input,
          approvals: { min: 0, requesterExcluded: false },
        }),
      ),
    ).toEqual([
      'runbook Bad_Id: id must be lower-case words with -',
      "runbook Bad_Id: form title over Slack's 24 characters",
      'runbook Bad_Id: the first input field must be cluster (kind cluster)',
      'runbook Bad_Id: positions must be 0, 1, 2… in field order',
      'runbook Bad_Id: two fields share a CLI flag',
      'runbook Bad_Id: approvals.min must be at least 1',
    ]);
    expect(runbookProblems(tiny({ input: z.strictObject({ cluster: z.string() }) }))).toEqual([
      'runbook leave-note: input field cluster has no field() description',
    ]);
  });

  it('keeps the CLI’s own flags (--yes, --no-rollback, --approve-as) from the fields', () => {
    const input = z.strictObject({
      cluster: field(z.string(), { kind: 'cluster', label: 'Cluster', placeholder: 'cluster', position: 0 }),
      approveAs: field(z.string(), { kind: 'text', label: 'Approver', placeholder: 'user' }),
    });
    expect(runbookProblems(tiny({ input }))).toEqual([
      "runbook leave-note: --approve-as is the CLI's own flag",
    ]);
  });
});

describe('resolveInput', () => {
  it('checks the schema, then the cluster, then the runbook’s own rules, connecting nowhere', async () => {
    const ESHA = await writeupCluster();
    const inventory = { clusters: { ESHA }, reports: [] };
    const rb = leaveNoteRunbook as unknown as AnyRunbook;
    expect(resolveInput(rb, { cluster: 'ESHA', node: 'A B' }, inventory)).toMatchObject({
      ok: false,
      failure: { code: 'bad-input', message: expect.stringMatching(/^node: /), hint: cliUsage(rb) },
    });
    expect(resolveInput(rb, { cluster: 'NOPE', node: 'srv127' }, inventory)).toEqual({
      ok: false,
      failure: { code: 'unknown-cluster', message: 'no cluster named "NOPE"', hint: 'known clusters: ESHA' },
    });
    expect(resolveInput(rb, { cluster: 'ESHA', node: 'srv999' }, inventory)).toMatchObject({
      ok: false,
      failure: { message: 'node: ESHA has no data node "srv999"' },
    });
    expect(resolveInput(rb, { cluster: 'ESHA', node: 'srv127' }, inventory)).toMatchObject({
      ok: true,
      params: { node: { name: 'srv127' }, note: 'hello' },
    });
  });
});

describe('what a runbook demands of its approvers', () => {
  const policy = {
    required: 1,
    approvers: { users: ['UA', 'UB'], groups: [] },
    allowSelfApproval: true,
    ttlMs: 1,
  };

  it('raises the inventory’s policy and never lowers it', () => {
    expect(demandedPolicy(policy, { min: 2, requesterExcluded: true })).toMatchObject({
      required: 2,
      allowSelfApproval: false,
    });
    expect(demandedPolicy({ ...policy, required: 3 }, { min: 2, requesterExcluded: false })).toMatchObject({
      required: 3,
      allowSelfApproval: true,
    });
    expect(demandedPolicy(policy, undefined)).toBe(policy);
  });

  it('is refused by an unattended run before anything is stored', async () => {
    const plan = sealPlan({
      formatVersion: 1,
      runbook: { id: 'two-person', version: 1 },
      cluster: 'lab',
      dialect: 'postgresql',
      params: {},
      requester: 'cli:me',
      createdAt: '2026-12-01T00:00:00.000Z',
      targets: {},
      snapshot: {},
      approvals: { min: 2, requesterExcluded: true },
      steps: [],
    });
    const submitted = jest.fn();
    const runs = {
      policyOf: (p: typeof plan) =>
        demandedPolicy({ ...policy, autoRollback: false, admins: { users: [], groups: [] } }, p.approvals),
      submit: submitted,
    };
    const r = await runUnattended(plan, {
      runs: runs as never,
      executor: {} as never,
      store: {} as never,
      owner: 'cli',
    });
    expect(r).toEqual({
      ok: false,
      failure: {
        code: 'needs-approvers',
        message:
          'two-person needs 2 distinct approvers other than its requester: name them with --approve-as <user>, once per approver',
        hint: "each named approver must be among lab's approvers (access.approvers); or request it in Slack, where the approvers can press Approve",
      },
    });
    expect(submitted).not.toHaveBeenCalled();
  });
});

describe('prepareRun', () => {
  it('refuses, as a fault, a plan that does not carry what its runbook demands of the approvers', async () => {
    const ESHA = await writeupCluster();
    const connector = {
      close: jest.fn(async () => undefined),
      sql: jest.fn(async () => ({ query: async () => ({ rows: [] }) })),
    };
    const demanding = tiny({ approvals: { min: 2, requesterExcluded: true } });
    const o = {
      inventory: { clusters: { ESHA }, reports: [] },
      requester: 'UA',
      connectorFor: () => connector as never,
    };
    await expect(prepareRun(demanding, { cluster: 'ESHA', node: 'srv127' }, o)).rejects.toThrow(
      'runbook leave-note: its plan demands null of the approvers, the runbook {"min":2,"requesterExcluded":true}',
    );
    expect(connector.close).toHaveBeenCalled();
    const plain = await prepareRun(tiny(), { cluster: 'ESHA', node: 'srv127' }, o);
    expect(plain).toMatchObject({ ok: true, subject: 'leave a note on srv127 of ESHA' });
    expect(plain.ok && plain.plan?.steps.map((s) => s.id)).toEqual(['write-note', 'read-note']);
  });
});

describe('progress readers', () => {
  it('are gathered from every runbook, and one name may not mean two readers', () => {
    expect(Object.keys(progressReadersOf(RUNBOOKS))).toEqual(['basebackup']);
    const other = tiny({ id: 'other', progress: { basebackup: () => undefined } });
    expect(() => progressReadersOf([...RUNBOOKS, other])).toThrow(
      /two runbooks contribute a progress reader named basebackup/,
    );
  });
});
