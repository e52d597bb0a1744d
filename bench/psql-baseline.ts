import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterConfig, NodeConfig } from '../src/config/normalise-inventory';
import type { Dialect } from '../src/dialects/dialect';
import { dialectFor } from '../src/dialects/dialect-for';
import { archiverSql } from '../src/probes/archiver';
import { dataDirDiskProbe } from '../src/probes/data-dir-disk';
import { poolNodesProbe } from '../src/probes/pool-nodes';
import type { SqlProbe } from '../src/probes/probe';
import { replayDelaySql } from '../src/probes/replay-delay';
import { replayLagSql, replicationSql } from '../src/probes/replication';
import { slotsSql } from '../src/probes/slots';
import { timelineSql } from '../src/probes/timeline';
import { currentWalPositionSql, walPositionSql } from '../src/probes/wal-position';
import { cmd } from '../src/shell/shell-command';

// What a DBA's script does without kbops, one node after the other:
//   for node in …; do psql -f node-checks.sql; ssh node df -P -k -- <dataDir>; done; psql -c 'show pool_nodes'
// node-checks.sql holds the very queries the report's reading runs (the same probe text), its role
// switch done by psql itself (\gset, \if), so every node gets exactly the queries kbops sends it.

export interface BaselineTools {
  readonly psql: string;
  readonly ssh: string;
  /** libpq's password file (what a DBA keeps in ~/.pgpass). */
  readonly pgpass: string;
  /** Where the script file is written. */
  readonly workDir: string;
}

export interface BaselineRound {
  readonly ms: number;
  /** Wall time by kind, summed over the round. */
  readonly psqlNodeMs: number;
  readonly sshDfMs: number;
  readonly psqlPoolMs: number;
  readonly processes: number;
  /** Each process that failed or printed something else than expected (empty: the round is complete). */
  readonly problems: readonly string[];
}

const statement = (p: SqlProbe): string => {
  // psql cannot bind parameters here; every probe of the reading has none.
  if (p.params.length > 0) throw new Error(`probe has parameters, psql -f cannot send it: ${p.sql}`);
  return p.sql;
};

/** The per-node script: what readReportReading asks a primary, or a standby, in the same order. */
export function nodeChecksScript(d: Dialect): string {
  return [
    '\\set ON_ERROR_STOP on',
    `${statement(walPositionSql(d))} \\gset`,
    '\\echo :in_recovery :position',
    `${statement(timelineSql(d))};`,
    '\\if :in_recovery',
    `${statement(replayDelaySql(d))};`,
    '\\else',
    ...[replicationSql(d), replayLagSql(d), currentWalPositionSql(d), slotsSql(d), archiverSql(d)].map(
      (p) => `${statement(p)};`,
    ),
    '\\endif',
    '',
  ].join('\n');
}

interface Ran {
  readonly ms: number;
  readonly problem: string | null;
  readonly stdout: string;
}

function runOne(file: string, args: readonly string[], env: NodeJS.ProcessEnv, what: string): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 30_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const ms = performance.now() - started;
      const why = err ? (stderr.trim().split('\n').slice(-1)[0] ?? '') || err.message : null;
      resolve({ ms, stdout, problem: why === null ? null : `${what}: ${why}` });
    });
  });
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');

export class PsqlBaseline {
  private readonly scripts = new Map<string, string>();

  constructor(private readonly tools: BaselineTools) {}

  private async scriptFor(cluster: ClusterConfig): Promise<string> {
    let path = this.scripts.get(cluster.dialect);
    if (!path) {
      path = join(this.tools.workDir, `node-checks-${cluster.dialect}.sql`);
      await writeFile(path, nodeChecksScript(dialectFor(cluster.dialect)), { mode: 0o644 });
      this.scripts.set(cluster.dialect, path);
    }
    return path;
  }

  private env(cluster: ClusterConfig): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PGPASSFILE: this.tools.pgpass,
      PGSSLMODE: cluster.db.tls.mode,
      PGCONNECT_TIMEOUT: '10',
    };
  }

  private psqlArgs(cluster: ClusterConfig, host: string, port: number): string[] {
    return [
      '-X',
      '-q',
      '-A',
      '-t',
      '-h',
      host,
      '-p',
      String(port),
      '-U',
      cluster.db.user,
      '-d',
      cluster.db.database,
    ];
  }

  private sshArgs(cluster: ClusterConfig, n: NodeConfig): string[] {
    const df = dataDirDiskProbe(n.dataDir).argv as [string, ...string[]];
    return [
      '-F',
      '/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'IdentitiesOnly=yes',
      ...(cluster.ssh.knownHostsFile ? ['-o', `UserKnownHostsFile=${cluster.ssh.knownHostsFile}`] : []),
      '-i',
      cluster.ssh.privateKeyFile,
      '-p',
      String(n.sshPort),
      '-l',
      cluster.ssh.user,
      n.host,
      cmd(...df).text,
    ];
  }

  /** Every cluster, every node, strictly one process at a time. */
  async round(clusters: readonly ClusterConfig[]): Promise<BaselineRound> {
    const started = performance.now();
    const problems: string[] = [];
    let psqlNodeMs = 0;
    let sshDfMs = 0;
    let psqlPoolMs = 0;
    let processes = 0;
    for (const c of clusters) {
      const env = this.env(c);
      const script = await this.scriptFor(c);
      for (const n of c.nodes) {
        const q = await runOne(
          this.tools.psql,
          [...this.psqlArgs(c, n.host, n.sqlPort), '-f', script],
          env,
          `psql ${c.name}/${n.name}`,
        );
        psqlNodeMs += q.ms;
        const role = lines(q.stdout)[0];
        if (q.problem) problems.push(q.problem);
        else if (!/^[tf] /.test(role ?? ''))
          problems.push(`psql ${c.name}/${n.name}: no role line (got ${JSON.stringify(role)})`);
        const df = await runOne(this.tools.ssh, this.sshArgs(c, n), env, `ssh ${c.name}/${n.name} df`);
        sshDfMs += df.ms;
        if (df.problem) problems.push(df.problem);
        else if (lines(df.stdout).length !== 2)
          problems.push(`ssh ${c.name}/${n.name} df: ${lines(df.stdout).length} lines, not 2`);
        processes += 2;
      }
      for (const mn of c.manager?.nodes ?? []) {
        const p = await runOne(
          this.tools.psql,
          [...this.psqlArgs(c, mn.host, mn.sqlPort), '-c', statement(poolNodesProbe)],
          env,
          `psql ${c.name} pool@${mn.node}`,
        );
        psqlPoolMs += p.ms;
        processes += 1;
        if (p.problem) problems.push(p.problem);
        else if (lines(p.stdout).length < c.nodes.length)
          problems.push(
            `psql ${c.name} pool@${mn.node}: ${lines(p.stdout).length} backends, not ${c.nodes.length}`,
          );
      }
    }
    return { ms: performance.now() - started, psqlNodeMs, sshDfMs, psqlPoolMs, processes, problems };
  }
}
