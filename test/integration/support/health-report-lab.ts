import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { clusterConnectorFor } from '../../../src/app/compose-runs';
import { ReportService } from '../../../src/app/report-service';
import { systemClock } from '../../../src/adapters/system-clock';
import { formatProblems, loadInventory } from '../../../src/config/load-inventory';
import type {
  ClusterConfig,
  Inventory,
  NodeConfig,
  ReportSchedule,
} from '../../../src/config/normalise-inventory';
import type { Notifier } from '../../../src/ports/notifier';
import type { StateStore } from '../../../src/ports/report-store';
import { RUNBOOKS } from '../../../src/runbooks';
import { createRunStore } from '../../../src/store/create-run-store';
import { labDown } from '../../../lab/lab-down';
import { labLayout, type LabLayout } from '../../../lab/lab-layout';
import { prepareAddNodeRun } from './prepare-add-node-run';
import { startPrivateLab, type PrivateLab } from './private-lab';
import { runPlanUnattended } from './unattended';

// The health-report acceptance lab: a private lab grown to one primary and two streaming standbys
// by kbops's own add-node run, an embedded state store in a temp dir, and an inventory that lists
// the three nodes and carries the report schedules the cases use (validated like any operator's).

export interface HealthLab {
  readonly lab: LabLayout;
  readonly inventory: Inventory;
  /** The cluster with all three nodes. */
  readonly cluster: ClusterConfig;
  readonly store: StateStore;
  /** Milliseconds the lab took to come up, and kbops's add-node run of host 3. */
  readonly setupMs: { readonly labUp: number; readonly addNode: number };
  schedule(name: ScheduleName): ReportSchedule;
  /** A report service as the bot composes it; with the store's reports when `keepLag`. */
  service(keepLag?: boolean): ReportService;
  stop(): Promise<void>;
}

export type ScheduleName = 'morning' | 'slots' | 'lag' | 'dead-host';

/** Low thresholds, so a few MB of WAL cross them; each case reads through its own schedule. */
const SCHEDULES: Readonly<Record<ScheduleName, Record<string, unknown>>> = {
  morning: {},
  slots: { thresholds: { slotRetainedBytes: '1MB' } },
  lag: { thresholds: { lagBytes: { warn: '1MB', critical: '8MB' } } },
  'dead-host': { nodeTimeoutSeconds: 3 },
};

/** The lab's inventory with host 3 listed and the schedules added, written beside the store. */
async function writeInventory(lab: LabLayout, path: string): Promise<void> {
  const doc = parse(await readFile(lab.inventoryPath, 'utf8')) as {
    clusters: { lab: { nodes: { name: string; host: string }[] } };
    reports?: unknown;
  };
  doc.clusters.lab.nodes.push({ name: lab.hosts[2].name, host: lab.hosts[2].address });
  doc.reports = Object.fromEntries(
    Object.entries(SCHEDULES).map(([name, extra]) => [
      name,
      { cron: '0 8 * * *', timezone: 'UTC', channel: 'CHEALTH01', nodeTimeoutSeconds: 10, ...extra },
    ]),
  );
  await writeFile(path, stringify(doc), { mode: 0o600 });
}

export async function startHealthLab(base: number, name: string): Promise<HealthLab> {
  const started = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'kbops-health-'));
  let pl: PrivateLab | undefined;
  let store: StateStore | undefined;
  const stop = async (): Promise<void> => {
    await store?.close().catch(() => undefined);
    if (pl) await pl.stop();
    else {
      const l = labLayout({ root: `/var/tmp/kbops-lab-${name}-${process.pid}`, base });
      if (existsSync(l.root)) await labDown(l, () => undefined);
    }
    await rm(work, { recursive: true, force: true });
  };
  try {
    pl = await startPrivateLab(base, name);
    const labUp = performance.now() - started;
    const s = await createRunStore({ dataDir: join(work, 'store') });
    store = s;
    const notifier: Notifier = { notify: async () => undefined };
    const added = await prepareAddNodeRun(
      { cluster: 'lab', host: pl.lab.hosts[2].address },
      { inventory: pl.inventory, requester: 'UALICE' },
    );
    if (!added.ok || !added.plan) throw new Error(`add-node not planned: ${JSON.stringify(added)}`);
    const r = await runPlanUnattended(added.plan, {
      store: s,
      inventory: pl.inventory,
      notifier,
      owner: 'health-report-test',
      rollbackOnFailure: true,
    });
    if (!r.ok || r.run.state !== 'succeeded') throw new Error(`add-node: ${JSON.stringify(r)}`);
    const path = join(work, 'kbops.yaml');
    await writeInventory(pl.lab, path);
    const inv = await loadInventory(path, { env: process.env });
    if (!inv.ok) throw new Error(`health inventory invalid:\n${formatProblems(inv.problems)}`);
    const inventory = inv.inventory;
    const cluster = inventory.clusters.lab!;
    return {
      lab: pl.lab,
      inventory,
      cluster,
      store: s,
      setupMs: { labUp, addNode: performance.now() - started - labUp },
      schedule: (n) => {
        const found = inventory.reports.find((x) => x.name === n);
        if (!found) throw new Error(`no schedule ${n}`);
        return found;
      },
      service: (keepLag = false) =>
        new ReportService({
          inventory,
          runStore: s,
          ...(keepLag && { reports: s.reports }),
          connectorFor: clusterConnectorFor(process.env),
          clock: systemClock,
          runbookIds: RUNBOOKS.map((b) => b.id),
        }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The cluster with extra nodes that are not lab hosts: at `host` (default ports) or at `host:port`. */
export function withDeadNodes(
  cluster: ClusterConfig,
  dead: readonly { name: string; host: string; port?: number }[],
): ClusterConfig {
  const like = cluster.nodes[1]!;
  const nodes: NodeConfig[] = dead.map((d) => ({
    ...like,
    name: d.name,
    host: d.host,
    ...(d.port !== undefined && { sshPort: d.port, sqlPort: d.port }),
    hostKeys: [],
  }));
  return { ...cluster, nodes: [...cluster.nodes, ...nodes] };
}
