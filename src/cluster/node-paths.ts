import { posix } from 'node:path';

// Names and places every runbook derives the same way on a node's host.

/** Where kbops keeps its markers and backups on a node's host: beside the cluster, never inside a data directory. */
export function kbopsDirOf(n: { clusterPath: string; dataDir: string }): string {
  const dir = posix.join(n.clusterPath, '.kbops');
  const inside = dir === n.dataDir || dir.startsWith(`${n.dataDir.replace(/\/+$/, '')}/`);
  return inside ? posix.join(posix.dirname(n.dataDir), '.kbops') : dir;
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
