// One time bound shared by every step of a reading (connect, SQL, SSH): once it passes, the step in
// progress and every later one fail at once with a DeadlineError, and the signal tells the adapters
// to stop what they were doing (cancel the query, kill the remote command).

/** A step that did not finish within its bound; the message is what a report shows. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/** 200 → `0.2`, 5000 → `5`. */
export const secondsText = (ms: number): string => String(Number((ms / 1000).toFixed(3)));

export interface Deadline {
  readonly signal: AbortSignal;
  /** `p`, or the deadline's DeadlineError as soon as it passes (p is left to settle, its outcome ignored). */
  race<T>(p: Promise<T>): Promise<T>;
}

/**
 * Runs `work` under a deadline of `ms` from now, clearing its timer when `work` ends. `work` must
 * pass every wait through `race` (or the signal) for the bound to hold.
 */
export async function withDeadline<T>(ms: number, work: (d: Deadline) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const { signal } = controller;
  const timer = setTimeout(
    () => controller.abort(new DeadlineError(`did not answer within ${secondsText(ms)} s`)),
    ms,
  );
  const race = <R>(p: Promise<R>): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  try {
    return await work({ signal, race });
  } finally {
    clearTimeout(timer);
  }
}
