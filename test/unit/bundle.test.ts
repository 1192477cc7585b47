import { describe, expect, it } from 'vitest';
import { bundleDirName, bundleItems, safeName } from '../../src/core/bundle.js';

const spec = {
  release: 'robustmq',
  namespace: 'mq',
  selector: 'app.kubernetes.io/instance=robustmq,app.kubernetes.io/name=robustmq',
  helmConnection: ['--namespace', 'mq', '--kube-context', 'prod'],
  pods: [
    { name: 'robustmq-0', containers: [{ name: 'robustmq', restarted: false }] },
    { name: 'robustmq-1', containers: [{ name: 'init-config', restarted: false }, { name: 'robustmq', restarted: true }] },
  ],
  overlayYaml: '# header\ntopology: combined\n',
  summary: 'upgrade failed: pod/robustmq-1 CrashLoopBackOff',
  verdict: { status: 'failed' },
};

describe('debug bundle plan', () => {
  const items = bundleItems(spec);
  const files = items.map((i) => i.file);

  it('has helm history, the overlay, events, describe and logs', () => {
    expect(files).toEqual(
      expect.arrayContaining(['README.txt', 'helm-history.txt', 'values-overlay.yaml', 'events.txt', 'describe-pods.txt', 'verdict.json', 'logs/robustmq-0.robustmq.log']),
    );
  });

  it('takes the previous log only of restarted containers', () => {
    expect(files).toContain('logs/robustmq-1.robustmq.previous.log');
    expect(files).not.toContain('logs/robustmq-0.robustmq.previous.log');
    const prev = items.find((i) => i.file === 'logs/robustmq-1.robustmq.previous.log')!;
    expect(prev.source).toEqual({ kind: 'kubectl', argv: ['logs', '-n', 'mq', 'robustmq-1', '-c', 'robustmq', '--tail=200', '--timestamps', '--previous'] });
  });

  it('uses the same helm connection flags as the deploy', () => {
    const h = items.find((i) => i.file === 'helm-history.txt')!;
    expect(h.source).toEqual({ kind: 'helm', argv: ['history', 'robustmq', '--namespace', 'mq', '--kube-context', 'prod', '--max', '20'] });
  });

  it('never reads a Secret', () => {
    for (const i of items) {
      if (i.source.kind !== 'text') expect(i.source.argv.join(' ')).not.toMatch(/secret/i);
    }
  });

  it('names the directory after the release and the local time', () => {
    expect(bundleDirName('robustmq', new Date(2026, 10, 26, 9, 5, 7))).toBe('robustmq-debug-robustmq-20261126-090507');
    expect(safeName('../x/y')).toBe('.._x_y');
  });
});
