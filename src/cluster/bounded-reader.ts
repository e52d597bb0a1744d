import type { Target } from '../core/plan';
import type { Dialect } from '../dialects/dialect';
import type { Connector } from '../ports/connector';
import type { ExecResult } from '../ports/remote-shell';
import type { ArgvProbe, Row, SqlProbe } from '../probes/probe';
import { cmd } from '../shell/shell-command';
import type { Deadline } from './deadline';

// A read-only reader whose every wait (the connect included: the Connector port takes no signal)
// ends at one deadline, so a host that accepts and never answers costs the deadline, not the
// adapters' own connect timeouts. Rows come as ClusterReader's do (the SqlRows shape).

export class BoundedReader {
  constructor(
    private readonly connector: Connector,
    readonly dialect: Dialect,
    private readonly deadline: Deadline,
  ) {}

  async rows(target: Target, probe: SqlProbe): Promise<Row[]> {
    const d = this.deadline;
    const client = await d.race(this.connector.sql(target));
    return (await d.race(client.query(probe.sql, probe.params, { signal: d.signal }))).rows;
  }

  async run(target: Target, probe: ArgvProbe): Promise<ExecResult> {
    const d = this.deadline;
    const shell = await d.race(this.connector.shell(target));
    return d.race(shell.exec(cmd(...(probe.argv as [string, ...string[]])), { signal: d.signal }));
  }
}
