import { access, constants, readFile, stat } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { inventorySchema, type SecretRef } from './inventory-schema';
import { formatPath, inventoryProblems, type ConfigProblem } from './inventory-rules';
import { normaliseInventory, type Inventory } from './normalise-inventory';
import { resolveSecret, type Env } from './resolve-secret';

export type InventoryResult =
  | { ok: true; inventory: Inventory; secrets: readonly string[] }
  | { ok: false; problems: readonly ConfigProblem[] };

export interface LoadOptions {
  readonly env: Env;
  /** Skip the checks that read key, known_hosts and secret files (for rendering docs, not for running). */
  readonly checkFiles?: boolean;
}

/** Parse and check an inventory text; `source` names it in messages. */
export async function parseInventory(
  text: string,
  source: string,
  options: LoadOptions,
): Promise<InventoryResult> {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '',
        message: `${source}: YAML ${e.code} at line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  const raw: unknown = doc.toJS();
  const parsed = inventorySchema.safeParse(raw);
  const problems: ConfigProblem[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: issueMessage(i) }));
  problems.push(...inventoryProblems(raw));
  if (!parsed.success || problems.length > 0) return { ok: false, problems: sortProblems(problems) };

  const inventory = normaliseInventory(parsed.data);
  if (options.checkFiles === false) return { ok: true, inventory, secrets: [] };
  const { problems: fileProblems, secrets } = await checkReferencedFiles(inventory, options.env);
  if (fileProblems.length > 0) return { ok: false, problems: sortProblems(fileProblems) };
  return { ok: true, inventory, secrets };
}

// A bad record key nests the real reason one level down.
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key') return issue.issues.map((i) => i.message).join('; ');
  return issue.message;
}

/** Load the inventory file at `path`. Never throws for a bad file: problems are the result. */
export async function loadInventory(path: string, options: LoadOptions): Promise<InventoryResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, problems: [{ path: '', message: `cannot read inventory ${path} (${code})` }] };
  }
  return parseInventory(text, path, options);
}

async function fileProblem(path: string, where: string, what: string, privateFile: boolean) {
  try {
    await access(path, constants.R_OK);
    const st = await stat(path);
    if (!st.isFile()) return { path: where, message: `${what} ${path} is not a regular file` };
    // ssh refuses keys others can read; say so now rather than at the first connection.
    if (privateFile && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8);
      return { path: where, message: `${what} ${path} is readable by others (mode ${mode}): chmod 600 it` };
    }
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `is not readable (${code})`;
    return { path: where, message: `${what} ${path} ${why}` };
  }
}

async function checkReferencedFiles(inventory: Inventory, env: Env) {
  const problems: ConfigProblem[] = [];
  const secrets: string[] = [];
  const checkSecret = async (ref: SecretRef, where: string) => {
    const r = await resolveSecret(ref, { env });
    if (r.ok) secrets.push(r.value);
    else problems.push({ path: where, message: r.message });
  };
  for (const c of Object.values(inventory.clusters)) {
    const base = `clusters.${c.name}`;
    const key = await fileProblem(
      c.ssh.privateKeyFile,
      `${base}.ssh.privateKeyFile`,
      'SSH private key',
      true,
    );
    if (key) problems.push(key);
    if (c.ssh.knownHostsFile) {
      const kh = await fileProblem(
        c.ssh.knownHostsFile,
        `${base}.ssh.knownHostsFile`,
        'known_hosts file',
        false,
      );
      if (kh) problems.push(kh);
    }
    if (c.db.tls.caFile) {
      const ca = await fileProblem(c.db.tls.caFile, `${base}.db.tls.caFile`, 'CA file', false);
      if (ca) problems.push(ca);
    }
    if (c.ssh.passphrase) await checkSecret(c.ssh.passphrase, `${base}.ssh.passphrase`);
    await checkSecret(c.db.password, `${base}.db.password`);
    if (c.manager && c.manager.pcpPassword !== c.db.password) {
      await checkSecret(c.manager.pcpPassword, `${base}.manager.pcpPassword`);
    }
  }
  return { problems, secrets };
}

const sortProblems = (problems: ConfigProblem[]): ConfigProblem[] =>
  [...problems].sort((a, b) => a.path.localeCompare(b.path));

export const formatProblems = (problems: readonly ConfigProblem[]): string =>
  problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('\n');
