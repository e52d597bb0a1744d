import { z } from 'zod';
import { clusterPathFor, type ClusterConfig, type NodeConfig } from '../../config/normalise-inventory';
import { absolutePathSchema, hostSchema, nodeNameSchema, portSchema } from '../../config/inventory-schema';
import type { Failure } from '../../core/run';

// What a person asks for: `add-node --cluster ESHA --host 192.168.4.159 [--name srv159] …`. Every
// value is checked here, before anything connects anywhere; bad input runs nothing.

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

export const addNodeInputSchema = z.strictObject({
  cluster: z.string().min(1).max(63),
  host: z.string().max(253).pipe(hostSchema),
  name: nodeNameSchema.optional(),
  sshPort: portSchema.optional(),
  sqlPort: portSchema.optional(),
  clusterPath: absolutePathSchema.optional(),
  dataDir: absolutePathSchema.optional(),
  countTables: z
    .array(z.string().regex(IDENT, { message: 'table names: [schema.]name of letters, digits and _' }))
    .max(10)
    .default([]),
});

export type AddNodeInput = z.input<typeof addNodeInputSchema>;

/** The new node, described as the inventory describes its nodes, plus what the request adds. */
export interface AddNodeParams extends Pick<
  NodeConfig,
  'name' | 'host' | 'sshPort' | 'sqlPort' | 'clusterPath' | 'dataDir' | 'binDir'
> {
  readonly cluster: ClusterConfig;
  readonly countTables: readonly string[];
}

/** The write-up's convention: srv + the last number of the address (192.168.4.159 → srv159). */
export function defaultNodeName(host: string): string {
  const last = /(\d+)$/.exec(host)?.[1];
  if (last) return `srv${last}`;
  return host
    .split('.')[0]!
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 58);
}

export type ParamsResult = { ok: true; params: AddNodeParams } | { ok: false; failure: Failure };

export function parseAddNodeParams(
  input: unknown,
  clusters: Readonly<Record<string, ClusterConfig>>,
): ParamsResult {
  const parsed = addNodeInputSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    return { ok: false, failure: { code: 'bad-input', message: problems.join('; '), hint: USAGE } };
  }
  const p = parsed.data;
  const cluster = clusters[p.cluster];
  if (!cluster) {
    const known = Object.keys(clusters).join(', ') || 'none';
    return {
      ok: false,
      failure: {
        code: 'unknown-cluster',
        message: `no cluster named ${JSON.stringify(p.cluster)}`,
        hint: `known clusters: ${known}`,
      },
    };
  }
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

export const USAGE =
  'add-node --cluster <name> --host <IPv4 or hostname> [--name <node name>] [--count-table <table>]…';
