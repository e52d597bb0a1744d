import type { RunStore } from '../../src/ports/run-store';
import { createRunStore } from '../../src/store/create-run-store';
import { artifactsDir, writeArtifact } from './artifacts';

// Journal rows, runs (with their plans) and votes of a store a test used, kept for the secret scan.

type ReadableStore = Pick<RunStore, 'listRuns' | 'events' | 'approvals'>;

const PAGE = 500;

/** Writes one JSON line per run, journal event and approval of `store` as one artifact. */
export async function keepStoreArtifacts(store: ReadableStore, name: string): Promise<void> {
  if (artifactsDir() === undefined) return;
  const lines: string[] = [];
  const runs = await store.listRuns({ limit: 10_000 });
  for (const run of runs) {
    lines.push(JSON.stringify({ run }));
    for (const approval of await store.approvals(run.id)) lines.push(JSON.stringify({ approval }));
  }
  for (let afterId = 0; ;) {
    const page = await store.events({ afterId, limit: PAGE });
    for (const event of page) lines.push(JSON.stringify({ event }));
    if (page.length < PAGE) break;
    afterId = page.at(-1)!.id;
  }
  writeArtifact(`${name}-store.jsonl`, lines.join('\n'));
}

/** The same for an embedded store in `dataDir`, once its process has let go of it. */
export async function keepStateDirArtifacts(dataDir: string, name: string): Promise<void> {
  if (artifactsDir() === undefined) return;
  const store = await createRunStore({ dataDir });
  try {
    await keepStoreArtifacts(store, name);
  } finally {
    await store.close();
  }
}
