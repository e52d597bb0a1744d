/** Aborts its signal when no progress was reported for `ms` (a long copy judged by its progress). */
export class StallWatch {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;
  readonly signal = this.controller.signal;

  constructor(readonly ms: number) {
    this.timer = this.arm();
  }

  progressed(): void {
    clearTimeout(this.timer);
    this.timer = this.arm();
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private arm(): NodeJS.Timeout {
    return setTimeout(() => this.controller.abort(new Error('stalled')), this.ms);
  }
}
