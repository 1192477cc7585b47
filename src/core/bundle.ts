// The debug bundle, as data: which files to write and where each one's content comes from (a kubectl or helm
// command, or text the CLI already has). Pure; the deploy flow runs the commands, passes every text through the
// by-value redactor (src/core/redact.ts) and writes the files. Nothing here reads the credentials Secret's content:
// the Secret is never dumped, only used to build the redactor.

export type BundleSource =
  | { kind: 'kubectl'; argv: string[] }
  | { kind: 'helm'; argv: string[] }
  | { kind: 'text'; text: string };

export interface BundleItem {
  /** relative path inside the bundle directory */
  file: string;
  source: BundleSource;
}

export interface BundleSpec {
  release: string;
  namespace: string;
  /** label selector of the release's pods */
  selector: string;
  /** helm connection flags (--namespace, --kube-context, --kubeconfig), exactly as the deploy used them */
  helmConnection: string[];
  /** pods to take logs from, with their container names; `restarted` adds the previous instance's log */
  pods: { name: string; containers: { name: string; restarted: boolean }[] }[];
  /** the overlay as written (has no secrets, and is redacted anyway) */
  overlayYaml?: string;
  /** what failed and why, in words (README.txt) */
  summary: string;
  /** the health verdict and anything else worth keeping as JSON */
  verdict?: unknown;
  logTail?: number;
}

/** `robustmq-debug-<release>-20261126-101500` (local time of `date`). */
export function bundleDirName(release: string, date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
  return `robustmq-debug-${safeName(release)}-${stamp}`;
}

/** A file-name-safe form of a Kubernetes name (they are already DNS labels; this guards against anything else). */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || '_';
}

export function bundleItems(s: BundleSpec): BundleItem[] {
  const ns = ['-n', s.namespace];
  const tail = `--tail=${s.logTail ?? 200}`;
  const items: BundleItem[] = [
    { file: 'README.txt', source: { kind: 'text', text: s.summary.endsWith('\n') ? s.summary : `${s.summary}\n` } },
    { file: 'helm-history.txt', source: { kind: 'helm', argv: ['history', s.release, ...s.helmConnection, '--max', '20'] } },
    { file: 'helm-status.txt', source: { kind: 'helm', argv: ['status', s.release, ...s.helmConnection, '--show-resources'] } },
    { file: 'helm-values.yaml', source: { kind: 'helm', argv: ['get', 'values', s.release, ...s.helmConnection] } },
    { file: 'events.txt', source: { kind: 'kubectl', argv: ['get', 'events', ...ns, '--sort-by=.lastTimestamp', '-o', 'wide'] } },
    { file: 'pods.txt', source: { kind: 'kubectl', argv: ['get', 'pods', ...ns, '-l', s.selector, '-o', 'wide'] } },
    { file: 'describe-pods.txt', source: { kind: 'kubectl', argv: ['describe', 'pods', ...ns, '-l', s.selector] } },
    { file: 'describe-statefulsets.txt', source: { kind: 'kubectl', argv: ['describe', 'statefulsets', ...ns, '-l', s.selector] } },
    { file: 'pvcs.txt', source: { kind: 'kubectl', argv: ['get', 'pvc', ...ns, '-l', `app.kubernetes.io/instance=${s.release}`, '-o', 'wide'] } },
    { file: 'services.txt', source: { kind: 'kubectl', argv: ['get', 'services,endpointslices', ...ns, '-l', `app.kubernetes.io/instance=${s.release}`, '-o', 'wide'] } },
  ];
  if (s.overlayYaml !== undefined) items.push({ file: 'values-overlay.yaml', source: { kind: 'text', text: s.overlayYaml } });
  if (s.verdict !== undefined) items.push({ file: 'verdict.json', source: { kind: 'text', text: `${JSON.stringify(s.verdict, null, 2)}\n` } });
  for (const p of s.pods) {
    for (const c of p.containers) {
      const base = `logs/${safeName(p.name)}.${safeName(c.name)}`;
      items.push({ file: `${base}.log`, source: { kind: 'kubectl', argv: ['logs', ...ns, p.name, '-c', c.name, tail, '--timestamps'] } });
      if (c.restarted) {
        items.push({ file: `${base}.previous.log`, source: { kind: 'kubectl', argv: ['logs', ...ns, p.name, '-c', c.name, tail, '--timestamps', '--previous'] } });
      }
    }
  }
  return items;
}
