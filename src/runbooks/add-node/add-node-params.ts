import { z } from 'zod';
import { clusterPathFor, type ClusterConfig, type NodeConfig } from '../../config/normalise-inventory';
import { absolutePathSchema, hostSchema, nodeNameSchema, portSchema } from '../../config/inventory-schema';
import { defaultNodeName } from '../../cluster/node-paths';
import { field, type Resolved } from '../runbook';

export { defaultNodeName };

// What a person asks for: `add-node --cluster ESHA --host 192.168.4.159 [--name srv159] …`. Every
// value is checked here, before anything connects anywhere; bad input runs nothing. The schema also
// describes the chat words, the modal and the CLI flags (src/runbooks/runbook.ts).

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

export const addNodeInputSchema = z.strictObject({
  cluster: field(z.string().min(1).max(63), {
    kind: 'cluster',
    position: 0,
    placeholder: 'cluster',
    label: 'Cluster',
  }),
  host: field(z.string().max(253).pipe(hostSchema), {
    kind: 'text',
    position: 1,
    placeholder: 'host',
    label: 'Host (IPv4 address or name)',
    maxLength: 253,
  }),
  name: field(nodeNameSchema.optional(), {
    kind: 'text',
    chat: true,
    placeholder: 'node',
    label: 'Node name (default: srv + last number of the address)',
    maxLength: 58,
  }),
  sshPort: field(portSchema.optional(), {
    kind: 'number',
    placeholder: 'port',
    label: 'SSH port of the new host',
  }),
  sqlPort: field(portSchema.optional(), {
    kind: 'number',
    placeholder: 'port',
    label: 'SQL port of the new node',
  }),
  clusterPath: field(absolutePathSchema.optional(), {
    kind: 'text',
    placeholder: 'path',
    label: 'Cluster path on the new host',
  }),
  dataDir: field(absolutePathSchema.optional(), {
    kind: 'text',
    placeholder: 'path',
    label: 'Data directory of the new node',
  }),
  countTables: field(
    z
      .array(z.string().regex(IDENT, { message: 'table names: [schema.]name of letters, digits and _' }))
      .max(10)
      .default([]),
    {
      kind: 'list',
      flag: 'count-table',
      placeholder: 'table',
      label: 'Tables whose rows are counted on both nodes',
    },
  ),
});

export type AddNodeInput = z.input<typeof addNodeInputSchema>;
type CheckedInput = z.output<typeof addNodeInputSchema>;

/** The new node, described as the inventory describes its nodes, plus what the request adds. */
export interface AddNodeParams extends Pick<
  NodeConfig,
  'name' | 'host' | 'sshPort' | 'sqlPort' | 'clusterPath' | 'dataDir' | 'binDir'
> {
  readonly cluster: ClusterConfig;
  readonly countTables: readonly string[];
}

/** The checked input against its cluster: every default filled in from the cluster's first node. */
export function resolveAddNodeParams(
  input: Record<string, unknown>,
  cluster: ClusterConfig,
): Resolved<AddNodeParams> {
  const p = input as CheckedInput;
  const template = cluster.nodes[0]!;
  const name = p.name ?? defaultNodeName(p.host);
  // A name derived from a long host name can break the rules a given --name is held to.
  if (!nodeNameSchema.safeParse(name).success) {
    return {
      ok: false,
      failure: {
        code: 'bad-input',
        message: `name: ${JSON.stringify(name)} (derived from the host) is not a valid node name`,
        hint: 'give one with --name: a-z, 0-9 and _, at most 58 characters',
      },
    };
  }
  const clusterPath = p.clusterPath ?? clusterPathFor(cluster.clusterPath, name);
  return {
    ok: true,
    params: {
      cluster,
      name,
      host: p.host,
      sshPort: p.sshPort ?? template.sshPort,
      sqlPort: p.sqlPort ?? template.sqlPort,
      clusterPath,
      dataDir: p.dataDir ?? `${clusterPath}/db/data`,
      binDir: `${clusterPath}/db/bin`,
      countTables: p.countTables,
    },
  };
}
