// The debug bundle written when a deploy or rollback fails: what a maintainer asks for first, redacted with the
// credentials Secret's real values, under the current directory (0700/0600).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Context } from '../context.js';
import { bundleDirName, bundleItems } from '../core/bundle.js';
import { connectionFlags } from '../core/flags.js';
import type { K8sPod } from '../core/k8s-types.js';
import { run as runHelm, type HelmInfo, type RunResult } from '../shell/helm.js';
import type { Kube } from '../shell/kube.js';
import { connection } from './cluster.js';
import { redactorFor } from './credentials.js';
import { releaseSelector, type Snapshot } from './watch.js';

export interface BundleRequest {
  kube: Kube;
  helm: HelmInfo;
  release: string;
  namespace: string;
  secretName: string;
  overlayYaml?: string;
  summary: string;
  verdict?: unknown;
  snapshot?: Snapshot;
  /** secret values held in memory (e.g. credentials just generated) */
  knownSecrets?: Record<string, string>;
}

/** Writes the redacted debug bundle under the current directory; returns its path (undefined if it could not). */
export async function writeDebugBundle(ctx: Context, b: BundleRequest): Promise<string | undefined> {
  const t = ctx.term;
  const dir = resolve(ctx.cwd, bundleDirName(b.release, ctx.now?.() ?? new Date()));
  try {
    const redact = await redactorFor(b.kube, b.namespace, b.secretName, b.knownSecrets);
    const pods = (b.snapshot?.pods ?? (await b.kube.list('pods', { namespace: b.namespace, selector: releaseSelector(b.release) }).catch(() => [])))
      .map((p) => {
        const pod = p as K8sPod;
        const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
        const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
        return { name: pod.metadata.name, containers: names.map((n) => ({ name: n, restarted: (statuses.find((s) => s.name === n)?.restartCount ?? 0) > 0 })) };
      })
      .slice(0, 30);
    const items = bundleItems({
      release: b.release,
      namespace: b.namespace,
      selector: releaseSelector(b.release),
      helmConnection: connectionFlags(connection(ctx, b.namespace)),
      pods,
      summary: b.summary,
      ...(b.overlayYaml !== undefined ? { overlayYaml: b.overlayYaml } : {}),
      ...(b.verdict !== undefined ? { verdict: b.verdict } : {}),
    });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const queue = [...items];
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        let text: string;
        if (item.source.kind === 'text') text = item.source.text;
        else if (item.source.kind === 'kubectl') {
          const r = await b.kube.run(item.source.argv, { timeoutMs: 60_000 });
          text = r.exitCode === 0 ? r.stdout : `${r.stdout}\n(kubectl ${item.source.argv.join(' ')} failed: ${r.stderr.trim()})\n`;
        } else {
          const r: RunResult = await runHelm(b.helm.path, item.source.argv, { env: ctx.term.childEnv });
          text = r.exitCode === 0 ? r.stdout : `${r.stdout}\n(helm ${item.source.argv.join(' ')} failed: ${r.stderr.trim()})\n`;
        }
        const path = join(dir, item.file);
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        writeFileSync(path, redact(text), { mode: 0o600 });
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    return dir;
  } catch (e) {
    t.warn(`could not write the debug bundle to ${dir}: ${(e as Error).message}`);
    return undefined;
  }
}
