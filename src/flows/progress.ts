// Progress text shared by the flows that watch pods: one line whenever the state changes, durations, helm's last lines.
import type { Context } from '../context.js';
import { notReadyLines, type Verdict } from '../core/health.js';

/** Human-readable duration for messages. */
export function secs(ms: number): string {
  return ms < 90_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** Prints one line whenever the per-role counts or the reasons change (no spinners: works in CI and logs alike). */
export class Progress {
  private last = '';
  constructor(private readonly ctx: Context) {}
  show(v: Verdict & { known?: boolean }, prefix = 'pods'): void {
    if (this.ctx.term.json) return;
    const reasons = notReadyLines(v).slice(0, 4);
    const summary = v.known === false ? 'waiting for the StatefulSets' : v.summary || 'no pods yet';
    const line = `  ${prefix}: ${summary}${reasons.length ? ` (${reasons.join('; ')}${notReadyLines(v).length > 4 ? '; …' : ''})` : ''}`;
    if (line !== this.last) {
      this.last = line;
      this.ctx.term.line(this.ctx.term.style('dim', line));
    }
  }
}


/** The last lines of a tool's stderr, joined for a one-line message. */
export function lastLines(s: string, n = 3): string {
  return s.trim().split('\n').filter(Boolean).slice(-n).join(' | ');
}
