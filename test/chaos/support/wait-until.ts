import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `f` until it returns a value (not undefined), at most `ms`; the error names `what` and `diag()`. */
export async function waitUntil<T>(
  what: string,
  f: () => Promise<T | undefined>,
  ms: number,
  diag: () => string | Promise<string> = () => '',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}\n${await diag()}`);
    await sleep(200);
  }
}
