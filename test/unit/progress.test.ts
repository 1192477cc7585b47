// Progress at scale (src/flows/progress.ts): one line per role, never one per pod; without a TTY a line when a
// role's reasons change (its count at most every 2 s), on a TTY one live line per role rewritten in place.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import type { PodReport, Verdict } from '../../src/core/health.js';
import { Progress, reasonKey, roleLines } from '../../src/flows/progress.js';
import { createTerminal } from '../../src/shell/terminal.js';

function pods(role: string, n: number, ready: number, reason: (i: number) => string): PodReport[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `robustmq-${role}-${i}`,
    role,
    ready: i < ready,
    phase: 'Running',
    restarts: 0,
    ...(i < ready ? {} : { issue: { kind: 'starting' as const, terminal: false, reason: reason(i), message: '' } }),
  }));
}

function verdict(brokerReady: number, reason: (i: number) => string, n = 300): Verdict {
  return {
    status: 'progressing',
    summary: '',
    roles: [
      { role: 'meta', desired: 1, ready: 1, pods: pods('meta', 1, 1, reason) },
      { role: 'broker', desired: n, ready: brokerReady, pods: pods('broker', n, brokerReady, reason) },
    ],
  };
}

function capture(isTTY: boolean) {
  const err = Object.assign(new PassThrough(), { isTTY, columns: 200 });
  let text = '';
  err.on('data', (c: Buffer) => (text += String(c)));
  const term = createTerminal({ env: { NO_COLOR: '1' }, stderr: err, stdin: Object.assign(new PassThrough(), { isTTY }) });
  return { ctx: { term } as unknown as Context, text: () => text };
}

describe('role lines', () => {
  it('groups not-Ready pods by reason, whatever names and ordinals they carry', () => {
    expect(reasonKey('volume data-robustmq-broker-12 Pending')).toBe(reasonKey('volume data-robustmq-broker-7 Pending'));
    const [, broker] = roleLines(verdict(100, (i) => (i % 2 ? `volume data-robustmq-broker-${i} Pending` : 'Init:Waiting (config)')));
    expect(broker!.text).toBe('broker 100/300 Ready (100 Init:Waiting (config); 100 volume … Pending)');
  });
  it('a single pod keeps its own reason', () => {
    const [, broker] = roleLines(verdict(299, () => 'scheduled on kwok-zone-a-1, not started yet'));
    expect(broker!.text).toBe('broker 299/300 Ready (scheduled on kwok-zone-a-1, not started yet)');
  });
});

describe('without a TTY', () => {
  it('a rollout of 300 pods prints a handful of lines per role, never one per pod', () => {
    const { ctx, text } = capture(false);
    let now = 0;
    const p = new Progress(ctx, { now: () => now });
    for (let ready = 0; ready <= 300; ready++) {
      now += 20; // 300 pods Ready in 6 s, judged on every change
      p.show(verdict(ready, () => 'Running, not Ready yet'));
    }
    const lines = text().trimEnd().split('\n');
    expect(lines.filter((l) => l.includes('broker')).length).toBeLessThanOrEqual(6);
    expect(lines.at(-1)).toBe('  pods: broker 300/300 Ready');
    expect(lines.filter((l) => l.includes('meta'))).toEqual(['  pods: meta 1/1 Ready']);
  });
  it('a new reason is printed at once', () => {
    const { ctx, text } = capture(false);
    let now = 0;
    const p = new Progress(ctx, { now: () => now });
    p.show(verdict(10, () => 'Running, not Ready yet'));
    now += 10;
    p.show(verdict(10, (i) => (i === 299 ? 'CrashLoopBackOff (1 restarts, last exit 1)' : 'Running, not Ready yet')));
    expect(text()).toMatch(/broker 10\/300 Ready \(289 Running, not Ready yet; CrashLoopBackOff/);
  });
});

describe('on a TTY', () => {
  it('one live line per role, rewritten in place', () => {
    const { ctx, text } = capture(true);
    const p = new Progress(ctx);
    p.show(verdict(1, () => 'Running, not Ready yet', 3));
    p.show(verdict(2, () => 'Running, not Ready yet', 3));
    const out = text();
    expect(out.match(/\n/g)).toHaveLength(4);
    // the second drawing moves the cursor up over the two lines of the first
    expect(out).toContain('\u001b[2F');
    expect(out).toContain('broker 2/3 Ready');
  });
});
