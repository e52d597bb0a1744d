import type { Json } from '../core/json';
import type { Run, StoredEvent } from '../core/run';
import type { Notifier } from '../ports/notifier';

// The terminal face of a run: one line per step, a base-backup bar redrawn in place on a TTY
// (every 10% otherwise), and the verdict's checks at the end.

export interface ProgressOut {
  readonly write: (text: string) => void;
  readonly tty: boolean;
}

const bar = (percent: number, width = 30): string => {
  const full = Math.round((percent / 100) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(percent).padStart(3)}%`;
};

export class CliProgress implements Notifier {
  private lastPercent = -1;
  private inBar = false;

  constructor(private readonly out: ProgressOut) {}

  notify(e: StoredEvent, run: Run): void {
    const total = run.plan.steps.length;
    const ev = e.event;
    switch (ev.type) {
      case 'step-started': {
        const step = run.plan.steps[ev.index];
        this.lastPercent = -1;
        this.line(
          `${ev.phase === 'undo' ? 'undo ' : ''}[${ev.index + 1}/${total}] ${step?.title ?? ev.stepId} …`,
        );
        return;
      }
      case 'step-progress':
        if (ev.percent !== undefined) this.progress(ev.percent);
        return;
      case 'step-finished': {
        this.endBar();
        const o = ev.outcome;
        const secs = (ev.durationMs / 1000).toFixed(1);
        this.line(
          o.ok
            ? `      done in ${secs} s`
            : `      FAILED after ${secs} s: ${o.failure.message}${o.failure.hint ? `\n      → ${o.failure.hint}` : ''}`,
        );
        const checks = (o.detail as { checks?: Json } | undefined)?.checks;
        if (Array.isArray(checks)) this.verdict(checks);
        return;
      }
      case 'state':
        this.line(`run ${run.id}: ${ev.from} → ${ev.to}${ev.reason ? ` (${ev.reason})` : ''}`);
        return;
      default:
        return;
    }
  }

  private verdict(checks: readonly Json[]): void {
    this.line('      verdict:');
    for (const c of checks as ReadonlyArray<{
      name: string;
      ok: boolean;
      waitedMs: number;
      detail: string;
    }>) {
      this.line(
        `        ${c.ok ? 'pass' : 'FAIL'}  ${c.name}: ${c.detail}${c.waitedMs > 0 ? ` (waited ${c.waitedMs} ms)` : ''}`,
      );
    }
  }

  private progress(percent: number): void {
    if (this.out.tty) {
      this.out.write(`\r      ${bar(percent)}`);
      this.inBar = true;
    } else if (Math.floor(percent / 10) > Math.floor(this.lastPercent / 10)) {
      this.line(`      ${bar(percent)}`);
    }
    this.lastPercent = percent;
  }

  private endBar(): void {
    if (this.inBar) this.out.write('\n');
    this.inBar = false;
  }

  private line(text: string): void {
    this.endBar();
    this.out.write(`${text}\n`);
  }
}
