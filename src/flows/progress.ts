// Progress text shared by the flows that watch pods: per-role lines, durations, helm's last lines.
//
// At scale the output must stay readable: a rollout of a thousand pods changes a count a thousand times. So progress
// is one line per ROLE, never one per pod: the role's Ready count and its not-Ready pods grouped by reason
// (`broker 57/300 Ready (200 waiting for volume provisioning, 43 Init:Waiting)`).
// - Without a TTY (CI, logs): a role's line is printed when its reasons change, and when its count changes at most
//   every COUNT_INTERVAL_MS (a role that reaches its desired count is always printed).
// - On a TTY: one live line per role, rewritten in place.
import type { Context } from '../context.js';
import type { RoleReport, Verdict } from '../core/health.js';

/** Human-readable duration for messages. */
export function secs(ms: number): string {
  return ms < 90_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

const COUNT_INTERVAL_MS = 2000;
const MAX_REASONS = 3;

/** A reason with what differs from pod to pod (names, ordinals, counts) taken out, so pods can be grouped by it. */
export function reasonKey(reason: string): string {
  let k = reasonKeys.get(reason);
  if (k === undefined) {
    k = reason
      .replace(/\b[a-z0-9]([-a-z0-9.]*[a-z0-9])?-\d+\b/g, '…')
      .replace(/\d+/g, 'N')
      .trim();
    // a run sees a few hundred distinct reasons at most; bounded all the same
    if (reasonKeys.size > 5000) reasonKeys.clear();
    reasonKeys.set(reason, k);
  }
  return k;
}
const reasonKeys = new Map<string, string>();

export interface RoleLine {
  role: string;
  /** the text shown */
  text: string;
  /** what makes a new line worth printing without a TTY: the reasons, not the counts */
  reasonKey: string;
  ready: number;
  desired: number;
}

/** One line per role: the count and the not-Ready pods grouped by reason, the largest groups first. */
export function roleLines(v: Verdict): RoleLine[] {
  return v.roles.filter((r) => r.desired > 0 || r.pods.length > 0).map(roleLine);
}

function roleLine(r: RoleReport): RoleLine {
  const groups = new Map<string, { text: string; n: number }>();
  for (const p of r.pods) {
    if (p.ready && !p.outdated) continue;
    const text = p.outdated && p.ready ? 'old revision, waiting to be replaced' : (p.issue?.reason ?? 'not Ready');
    const key = reasonKey(text);
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { text, n: 1 });
  }
  const sorted = [...groups.entries()].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]));
  // a reason shared by several pods is shown without the one pod's particulars
  const shown = sorted.slice(0, MAX_REASONS).map(([k, g]) => (g.n > 1 ? `${g.n} ${k.replace(/\bN\b/g, '…')}` : g.text));
  const more = sorted.length > MAX_REASONS ? `; ${sorted.slice(MAX_REASONS).reduce((a, [, g]) => a + g.n, 0)} more` : '';
  const text = `${r.role} ${r.ready}/${r.desired} Ready${shown.length ? ` (${shown.join('; ')}${more})` : ''}`;
  return { role: r.role, text, reasonKey: sorted.map(([k]) => k).join('|'), ready: r.ready, desired: r.desired };
}

interface Shown {
  text: string;
  reasonKey: string;
  ready: number;
  at: number;
}

/** Prints progress for a watched release; see the top of this file for what is printed when. */
export class Progress {
  private readonly shown = new Map<string, Shown>();
  private pending = '';
  private waitingShown = false;
  /** TTY: how many lines the live block has, and the stream's byte count right after it was drawn */
  private block = 0;
  private writtenAfterDraw: number | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly o: { live?: boolean; now?: () => number } = {},
  ) {}

  private get live(): boolean {
    const t = this.ctx.term;
    return this.o.live ?? Boolean((t.stderr as { isTTY?: boolean }).isTTY && t.env.TERM !== 'dumb');
  }

  show(v: Verdict & { known?: boolean }, prefix = 'pods'): void {
    const t = this.ctx.term;
    if (t.json) return;
    if (v.known === false) {
      if (!this.waitingShown) t.line(t.style('dim', `  ${prefix}: waiting for the StatefulSets`));
      this.waitingShown = true;
      return;
    }
    const lines = roleLines(v);
    if (lines.length === 0) return;
    if (this.live) this.draw(lines.map((l) => `  ${prefix}: ${l.text}`));
    else this.append(lines, prefix);
  }

  private append(lines: RoleLine[], prefix: string): void {
    const t = this.ctx.term;
    const now = (this.o.now ?? Date.now)();
    for (const l of lines) {
      const before = this.shown.get(l.role);
      if (before?.text === l.text) continue;
      const reasonsChanged = !before || before.reasonKey !== l.reasonKey;
      const complete = l.ready >= l.desired && l.reasonKey === '';
      const countDue = !before || now - before.at >= COUNT_INTERVAL_MS;
      if (!reasonsChanged && !complete && !countDue) continue;
      this.shown.set(l.role, { text: l.text, reasonKey: l.reasonKey, ready: l.ready, at: now });
      t.line(t.style('dim', `  ${prefix}: ${l.text}`));
    }
  }

  private draw(lines: string[]): void {
    const joined = lines.join('\n');
    if (joined === this.pending) return;
    this.pending = joined;
    const out = this.ctx.term.stderr as NodeJS.WritableStream & { bytesWritten?: number; columns?: number };
    const width = Math.max(20, (out.columns ?? 120) - 1);
    const fit = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
    // Someone else wrote since the last draw: the block has scrolled away, start a new one below.
    const foreign = this.writtenAfterDraw !== undefined && out.bytesWritten !== undefined && out.bytesWritten !== this.writtenAfterDraw;
    let text = '';
    if (this.block > 0 && !foreign) text += `\u001b[${this.block}F`;
    for (const l of lines) text += `\u001b[2K${this.ctx.term.style('dim', fit(l))}\n`;
    // fewer roles than before (rare): clear what is left of the old block
    if (!foreign) for (let i = lines.length; i < this.block; i++) text += '\u001b[2K\n';
    const drawn = foreign ? lines.length : Math.max(lines.length, this.block);
    out.write(text);
    this.block = drawn;
    this.writtenAfterDraw = out.bytesWritten;
  }
}

/** The last lines of a tool's stderr, joined for a one-line message. */
export function lastLines(s: string, n = 3): string {
  return s.trim().split('\n').filter(Boolean).slice(-n).join(' | ');
}
