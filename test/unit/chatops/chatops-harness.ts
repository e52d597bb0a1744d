import { RUNBOOKS } from '../../../src/runbooks';
import { kingbaseCommands } from '../../../commands/kingbase-commands';
import type { ChatMessage, ChatSurface } from '../../../src/chatops/chat-surface';
import { routeKingbase, type ChatopsDeps, type CommandContext } from '../../../src/chatops/chatops';
import { runPolicyFor } from '../../../src/chatops/cluster-access';
import type { ClusterConfig, Inventory } from '../../../src/config/normalise-inventory';
import type { SealedPlan } from '../../../src/core/plan';
import type { Run } from '../../../src/core/run';
import { RunService } from '../../../src/engine/run-service';
import type { Clock } from '../../../src/ports/clock';
import type { RunStore } from '../../../src/ports/run-store';
import { testPlan } from '../../integration/support/test-plan';
import { migrate } from '../../../src/store/migrations';
import { PgliteDb } from '../../../src/store/pglite-db';
import { SqlRunStore } from '../../../src/store/sql-run-store';
import { writeupCluster } from '../runbooks/writeup-snapshot';

// The `/kingbase` front end as Slack and the console drive it, without either: the real router,
// commands, run service and store (PGlite in memory), and a surface that records what was said.

export const CHANNEL = 'CLAB';

export interface Said {
  readonly kind: 'post' | 'update' | 'ephemeral' | 'upload' | 'form';
  readonly channel: string;
  readonly user?: string;
  readonly text: string;
  readonly blocks?: readonly unknown[];
}

export class RecordingSurface implements ChatSurface {
  readonly said: Said[] = [];
  private seq = 0;
  async post(channel: string, m: ChatMessage): Promise<{ ts: string }> {
    this.said.push({ kind: 'post', channel, text: m.text, ...(m.blocks && { blocks: m.blocks }) });
    return { ts: `1.${++this.seq}` };
  }
  async update(channel: string, _ts: string, m: ChatMessage): Promise<void> {
    this.said.push({ kind: 'update', channel, text: m.text, ...(m.blocks && { blocks: m.blocks }) });
  }
  async ephemeral(channel: string, user: string, m: ChatMessage): Promise<void> {
    this.said.push({ kind: 'ephemeral', channel, user, text: m.text, ...(m.blocks && { blocks: m.blocks }) });
  }
  async upload(channel: string, _threadTs: string, title: string, content: string): Promise<void> {
    this.said.push({ kind: 'upload', channel, text: `${title}\n${content}` });
  }
  async openForm(_trigger: string, view: Record<string, unknown>): Promise<void> {
    this.said.push({ kind: 'form', channel: '', text: JSON.stringify(view) });
  }
  /** Everything said, as Slack would receive it (text and blocks). */
  wire(): string {
    return JSON.stringify(this.said);
  }
  last(): Said | undefined {
    return this.said.at(-1);
  }
}

export const clock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The write-up's cluster as `lab`, with a team: UALICE and UBOB request, UBOB and UCAROL approve, UCAROL is admin. */
export async function labCluster(over: Partial<ClusterConfig> = {}): Promise<ClusterConfig> {
  const base = await writeupCluster();
  return {
    ...base,
    name: 'lab',
    access: {
      ...base.access,
      requesters: { users: ['UALICE', 'UBOB'], groups: [] },
      approvers: { users: ['UBOB', 'UCAROL'], groups: [] },
      admins: { users: ['UCAROL'], groups: [] },
      channels: [CHANNEL],
    },
    allowUnattendedCli: false,
    ...over,
  };
}

export interface Harness {
  readonly deps: ChatopsDeps;
  readonly store: RunStore;
  readonly surface: RecordingSurface;
  readonly inventory: Inventory;
  ctx(user: string, channel?: string): CommandContext;
  /** `/kingbase <text>` as `user` in `channel`. */
  send(text: string, user: string, channel?: string): Promise<void>;
  /** A run awaiting approval on `cluster`, requested by UALICE, posted in CLAB. */
  submitted(cluster?: string, plan?: SealedPlan): Promise<Run>;
  audits(): Promise<Array<{ action: string; actor: string; data: unknown }>>;
  close(): Promise<void>;
}

// One embedded database per test file (opening PGlite takes seconds), emptied for each harness.
let shared: Promise<PgliteDb> | undefined;

async function freshStore(): Promise<RunStore> {
  shared ??= PgliteDb.open();
  const db = await shared;
  await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  await migrate(db);
  return new SqlRunStore(db);
}

/** For the test file's afterAll. */
export async function closeSharedStore(): Promise<void> {
  const db = shared;
  shared = undefined;
  if (db) await (await db).close();
}

export async function chatopsHarness(
  clusters: readonly ClusterConfig[],
  o: { unverifiedUsers?: boolean } = {},
): Promise<Harness> {
  const inventory: Inventory = {
    clusters: Object.fromEntries(clusters.map((c) => [c.name, c])),
    reports: [],
  };
  const store = await freshStore();
  const policyFor = (name: string) => {
    const c = inventory.clusters[name];
    if (!c) throw new Error(`no cluster ${name}`);
    return runPolicyFor(c);
  };
  const runs = new RunService({
    store,
    clock,
    policyFor,
    groupsOf: () => [],
    connectorFor: () => {
      throw new Error('a test of the front end must not connect anywhere');
    },
  });
  const deps: ChatopsDeps = {
    inventory,
    env: {},
    store,
    runs,
    clock,
    groupsOf: () => [],
    runbooks: RUNBOOKS,
    connectorFor: () => {
      throw new Error('a test of the front end must not connect anywhere');
    },
    ...(o.unverifiedUsers && { unverifiedUsers: true }),
  };
  const surface = new RecordingSurface();
  const ctx = (user: string, channel = CHANNEL): CommandContext => ({
    deps,
    actor: { user, channel },
    surface,
  });
  return {
    deps,
    store,
    surface,
    inventory,
    ctx,
    send: (text, user, channel) => routeKingbase(text, ctx(user, channel), kingbaseCommands()),
    async submitted(cluster = 'lab', plan = testPlan(cluster, 'UALICE')) {
      const r = await runs.submit(plan, { slack: { channel: CHANNEL, ts: '1.0' } });
      if (!r.ok) throw new Error(r.failure.message);
      return r.run;
    },
    async audits() {
      return (await store.events({}))
        .filter((e) => e.event.type === 'audit')
        .map((e) => {
          const ev = e.event as { action: string; data?: unknown };
          return { action: ev.action, actor: e.actor, data: ev.data };
        });
    },
    close: async () => undefined, // the database is the file's: closeSharedStore
  };
}
