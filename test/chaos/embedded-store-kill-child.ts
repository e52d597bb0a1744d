import { createRunStore } from '../../src/store/create-run-store';

// The child of embedded-store-kill.test.ts: opens the embedded store in argv[2], says how many
// journal events it found, then appends events as fast as it can and prints each acknowledged one
// (stdout to a pipe is synchronous on Linux: a printed line was acknowledged before the kill).

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: embedded-store-kill-child <state dir>');
  const store = await createRunStore({ dataDir: dir, instanceId: 'chaos-child' });
  let seq = 0;
  for (let after = 0; ;) {
    const page = await store.events({ cluster: 'chaos', afterId: after, limit: 1000 });
    if (page.length === 0) break;
    seq += page.length;
    after = page.at(-1)!.id;
  }
  process.stdout.write(`ready ${seq}\n`);
  for (;;) {
    const e = await store.append({
      runId: null,
      cluster: 'chaos',
      actor: 'chaos',
      event: { type: 'audit', action: 'tick', data: { seq } },
    });
    process.stdout.write(`ack ${seq} ${e.id}\n`);
    seq++;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
