// The one place that talks to the Kubernetes API, with the same kubeconfig and context as helm. kubectl does every
// auth method a user's kubeconfig can hold (client certs, tokens, OIDC, exec plugins), so nothing here ever reads
// credentials itself.
//
// Two paths, one interface:
// - proxy (default): ONE `kubectl proxy` per run on a private unix socket (src/shell/kube-proxy.ts); every read,
//   SelfSubjectAccessReview, watch, server-side dry-run, and the namespace/Secret writes are HTTP requests through
//   it. A kubectl process per call costs more CPU than the request itself, and a run makes dozens.
// - kubectl per call: where unix sockets are not available (Windows), or ROBUSTMQ_INSTALL_KUBE_TRANSPORT=kubectl.
// Always kubectl directly: `exec` (the proxy refuses exec/attach), `describe` (kubectl's own text), `config view`
// (reads the kubeconfig only), and the generic `run` (deletes and patches of uninstall, rollback, the debug bundle).
//
// Conventions:
// - every call gets `--kubeconfig`/`--context` when the user gave them (and nothing otherwise, so KUBECONFIG and the
//   current context apply exactly as they do for helm);
// - `--request-timeout` bounds single requests, so an unreachable API fails in seconds, not minutes;
// - errors are returned as data (`KubeResult`) or thrown as `KubeError` carrying kubectl's stderr, never swallowed.
import { execa, type ResultPromise } from 'execa';
import { JsonStreamSplitter } from '../core/json-stream.js';
import type { K8sObject, K8sEvent, K8sPod, K8sPvc } from '../core/k8s-types.js';
import { apiResource, applyErrorLine, errorText, groupVersionPath, LineSplitter, query, resourcePath, warningsFrom, type ApiResource } from '../core/kube-api.js';
import { KubeProxy, ProxyError, proxySupported } from './kube-proxy.js';

export interface KubeOptions {
  /** kubectl binary; default: $ROBUSTMQ_INSTALL_KUBECTL, then `kubectl` on PATH. */
  kubectl?: string;
  kubeconfig?: string;
  context?: string;
  /** Per-request timeout handed to kubectl (`--request-timeout`), default 20s. */
  requestTimeout?: string;
  env?: Record<string, string | undefined>;
  /** proxy: one `kubectl proxy` per run (default where unix sockets work); kubectl: a process per call */
  transport?: 'proxy' | 'kubectl';
  /** where an exec credential plugin's prompt is shown (the proxy's stderr is filtered into it) */
  userStderr?: NodeJS.WritableStream;
}

/** The transport a Kube uses unless told: ROBUSTMQ_INSTALL_KUBE_TRANSPORT=kubectl|proxy, else proxy where it works. */
export function defaultTransport(env: Record<string, string | undefined> = process.env, platform: NodeJS.Platform = process.platform): 'proxy' | 'kubectl' {
  const forced = env.ROBUSTMQ_INSTALL_KUBE_TRANSPORT;
  if (forced === 'kubectl' || forced === 'proxy') return forced;
  return proxySupported(platform) ? 'proxy' : 'kubectl';
}

export interface KubeResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class KubeError extends Error {
  constructor(
    message: string,
    readonly argv: string[],
    readonly stderr: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }
  /** The API server could not be reached at all (vs. a request the server answered with an error). */
  get unreachable(): boolean {
    return isUnreachable(this.stderr);
  }
  get forbidden(): boolean {
    return /\bforbidden\b|\(Forbidden\)/i.test(this.stderr);
  }
  get notFound(): boolean {
    return /\(NotFound\)|not found/i.test(this.stderr);
  }
}

export function isUnreachable(stderr: string): boolean {
  return /connection refused|was refused|no such host|i\/o timeout|Unable to connect to the server|context deadline exceeded|dial tcp|TLS handshake timeout|the server could not find the requested resource \(get version|context .* does not exist|context was not found|no configuration has been provided|invalid configuration/i.test(
    stderr,
  );
}

export interface AccessCheck {
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  subresource?: string;
}

export interface AccessResult extends AccessCheck {
  allowed: boolean;
  reason: string;
}

export interface DryRunResult {
  ok: boolean;
  /** One line per object kubectl reported, e.g. `statefulset.apps/robustmq serverside-applied (server dry run)`. */
  applied: string[];
  errors: string[];
  /** The API server's warnings (e.g. `would violate PodSecurity "restricted:latest": …`), deduplicated. */
  warnings: string[];
  /** What namespace the namespaced objects were validated in, and why (see `dryRunApply`). */
  note?: string;
}

export interface WatchHandle<T> {
  /** Stops the watch (kills kubectl); resolves when the process is gone. */
  stop(): Promise<void>;
  /** Resolves when the watch ended for good (stopped, or kubectl failed `maxRestarts` times in a row). */
  done: Promise<void>;
  /** Current objects by namespace/name, kept up to date from ADDED/MODIFIED/DELETED events. */
  objects(): T[];
}

export interface StorageClassInfo {
  name: string;
  isDefault: boolean;
  provisioner: string;
  volumeBindingMode: 'Immediate' | 'WaitForFirstConsumer';
  allowVolumeExpansion: boolean;
}

export interface IngressClassInfo {
  name: string;
  isDefault: boolean;
  controller: string;
}

const DEFAULT_STORAGE_CLASS = 'storageclass.kubernetes.io/is-default-class';
/** Items per page of a list through the proxy (kubectl's own --chunk-size is 500). */
const LIST_PAGE = 250;
const DEFAULT_INGRESS_CLASS = 'ingressclass.kubernetes.io/is-default-class';

export class Kube {
  readonly kubectl: string;
  private readonly env: Record<string, string | undefined>;
  /** the run's one connection (proxy transport), started on the first request */
  readonly proxy: KubeProxy | undefined;

  constructor(readonly opts: KubeOptions = {}) {
    this.kubectl = opts.kubectl ?? process.env.ROBUSTMQ_INSTALL_KUBECTL ?? 'kubectl';
    this.env = opts.env ?? {};
    const transport = opts.transport ?? defaultTransport({ ...process.env, ...this.env });
    this.proxy =
      transport === 'proxy'
        ? new KubeProxy({ kubectl: this.kubectl, globalArgs: this.globalArgs(), env: this.env, userStderr: (opts.userStderr ?? process.stderr) as import('node:stream').Writable })
        : undefined;
  }

  /** Stops the proxy (if any); later requests fail. The process's exit stops it anyway. */
  close(): void {
    this.proxy?.stop();
  }

  private timeoutMs(): number {
    const t = this.opts.requestTimeout ?? '20s';
    const m = /^(\d+)(ms|s|m)?$/.exec(t);
    if (!m) return 20_000;
    return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  }

  /** An API request through the proxy; a failure the server or the proxy reports comes back as kubectl's text. */
  private async http(method: string, path: string, o: { body?: unknown; contentType?: string; accept?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<{ ok: boolean; status: number; body: string; stderr: string; warnings: string[]; retried?: boolean }> {
    try {
      const r = await this.proxy!.request(method, path, {
        ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
        ...(o.contentType ? { contentType: o.contentType } : {}),
        ...(o.accept ? { accept: o.accept } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        timeoutMs: o.timeoutMs ?? this.timeoutMs(),
      });
      const ok = r.status >= 200 && r.status < 300;
      return { ok, status: r.status, body: r.body, stderr: ok ? '' : errorText(r.status, r.body), warnings: warningsFrom(r.rawHeaders), ...(r.retried ? { retried: true } : {}) };
    } catch (e) {
      if (e instanceof ProxyError) {
        if (/kubectl not found/.test(e.message)) throw new KubeError(e.message, ['proxy'], '', 127);
        return { ok: false, status: 0, body: '', stderr: `Unable to connect to the server: ${e.message}`, warnings: [] };
      }
      throw e;
    }
  }

  private async httpMust<T>(method: string, path: string, what: string, o: Parameters<Kube['http']>[2] = {}): Promise<T> {
    const r = await this.http(method, path, o);
    if (!r.ok) throw new KubeError(`${what}: ${r.stderr}`, [method, path], r.stderr, 1);
    return JSON.parse(r.body) as T;
  }

  /** Flags that select the same cluster and user as helm's `--kubeconfig`/`--kube-context`. */
  globalArgs(): string[] {
    const a: string[] = [];
    if (this.opts.kubeconfig) a.push(`--kubeconfig=${this.opts.kubeconfig}`);
    if (this.opts.context) a.push(`--context=${this.opts.context}`);
    return a;
  }

  private requestTimeout(): string {
    return `--request-timeout=${this.opts.requestTimeout ?? '20s'}`;
  }

  /** Runs kubectl; never throws for a non-zero exit (see `must`). A missing kubectl binary throws a KubeError. */
  async run(args: string[], o: { input?: string; signal?: AbortSignal; timeoutMs?: number; detached?: boolean } = {}): Promise<KubeResult> {
    const argv = [...this.globalArgs(), ...args];
    try {
      const r = await execa(this.kubectl, argv, {
        input: o.input,
        ...(o.detached ? { detached: true } : {}),
        reject: false,
        cancelSignal: o.signal,
        timeout: o.timeoutMs,
        env: { ...this.env },
        stripFinalNewline: false,
        maxBuffer: 256 * 1024 * 1024,
      });
      if (r.failed && r.exitCode === undefined) {
        const why = r.isCanceled ? 'cancelled' : r.timedOut ? `timed out after ${o.timeoutMs}ms` : (r.originalMessage ?? r.message);
        if (/ENOENT/.test(String(r.originalMessage ?? r.message))) {
          throw new KubeError(
            `kubectl not found (${this.kubectl}): install kubectl or set ROBUSTMQ_INSTALL_KUBECTL`,
            argv,
            String(r.stderr ?? ''),
            127,
          );
        }
        return { exitCode: -1, stdout: String(r.stdout ?? ''), stderr: `${String(r.stderr ?? '')}\n${why}`.trim() };
      }
      return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
    } catch (e) {
      if (e instanceof KubeError) throw e;
      throw new KubeError(`kubectl failed to start (${this.kubectl}): ${(e as Error).message}`, argv, '', 127);
    }
  }

  /** Runs kubectl and throws a KubeError naming the command on a non-zero exit. */
  async must(args: string[], o: { input?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.run(args, o);
    if (r.exitCode !== 0) {
      const first = r.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ') || `exit ${r.exitCode}`;
      throw new KubeError(`kubectl ${args.slice(0, 3).join(' ')}: ${first}`, args, r.stderr, r.exitCode);
    }
    return r.stdout;
  }

  async getJson<T = unknown>(args: string[], o: { signal?: AbortSignal } = {}): Promise<T> {
    const out = await this.must(['get', ...args, '-o', 'json', this.requestTimeout()], o);
    return JSON.parse(out) as T;
  }

  /**
   * `kubectl get` of a list; an absent resource type (CRD not installed) gives []. `keep` slims each item as it
   * arrives (src/core/k8s-slim.ts).
   */
  async list<T = K8sObject>(resource: string, o: { namespace?: string; selector?: string; fieldSelector?: string; keep?: (item: T) => T } = {}): Promise<T[]> {
    const api = this.proxy && apiResource(resource);
    if (api) {
      const r = await this.pagedList<T>(resourcePath(api, { namespace: o.namespace }), { labelSelector: o.selector, fieldSelector: o.fieldSelector }, o.keep);
      if (r.ok) return r.items;
      // an API group that is not served (CRD not installed) answers 404 for the whole collection
      if (r.status === 404) return [];
      throw new KubeError(`kubectl get ${resource}: ${r.stderr}`, [resource], r.stderr, 1);
    }
    const args = [resource];
    if (o.namespace) args.push('-n', o.namespace);
    else args.push('--all-namespaces=false');
    if (o.selector) args.push('-l', o.selector);
    if (o.fieldSelector) args.push(`--field-selector=${o.fieldSelector}`);
    const r = await this.run(['get', ...args, '-o', 'json', this.requestTimeout()]);
    if (r.exitCode !== 0) {
      if (/the server doesn't have a resource type|no matches for kind/i.test(r.stderr)) return [];
      throw new KubeError(`kubectl get ${resource}: ${r.stderr.trim()}`, args, r.stderr, r.exitCode);
    }
    const items = ((JSON.parse(r.stdout) as { items?: T[] }).items ?? []) as T[];
    return o.keep ? items.map(o.keep) : items;
  }

  /**
   * A list in pages of LIST_PAGE items (one consistent snapshot: the server's continue token), each page parsed and
   * slimmed before the next is asked for, so a thousand pods never sit in memory as one response and its whole
   * parse at once. managedFields (never read, a third of a pod) are dropped. The list's resourceVersion is the
   * snapshot's, for a watch to start from.
   */
  private async pagedList<T>(
    path: string,
    params: Record<string, string | undefined>,
    keep: ((item: T) => T) | undefined,
    o: { signal?: AbortSignal } = {},
  ): Promise<{ ok: true; items: T[]; resourceVersion?: string } | { ok: false; status: number; stderr: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const r = await this.http('GET', path + query({ ...params, limit: LIST_PAGE, continue: cont }), o.signal ? { signal: o.signal } : {});
      if (!r.ok) return { ok: false, status: r.status, stderr: r.stderr };
      const page = JSON.parse(r.body) as { metadata?: { resourceVersion?: string; continue?: string }; items?: T[] };
      for (const item of page.items ?? []) {
        delete ((item as { metadata?: { managedFields?: unknown } }).metadata ?? {}).managedFields;
        items.push(keep ? keep(item) : item);
      }
      resourceVersion = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { ok: true, items, ...(resourceVersion ? { resourceVersion } : {}) };
  }

  /** One object, or undefined when it does not exist. */
  async getObject<T = K8sObject>(resource: string, name: string, namespace?: string): Promise<T | undefined> {
    const api = this.proxy && apiResource(resource);
    if (api) {
      const r = await this.http('GET', resourcePath(api, { namespace, name }));
      if (r.ok) return JSON.parse(r.body) as T;
      if (r.status === 404) return undefined;
      throw new KubeError(`kubectl get ${resource} ${name}: ${r.stderr}`, [resource, name], r.stderr, 1);
    }
    const args = ['get', resource, name, '-o', 'json', this.requestTimeout()];
    if (namespace) args.push('-n', namespace);
    const r = await this.run(args);
    if (r.exitCode !== 0) {
      if (/\(NotFound\)|not found/i.test(r.stderr)) return undefined;
      throw new KubeError(`kubectl get ${resource} ${name}: ${r.stderr.trim()}`, args, r.stderr, r.exitCode);
    }
    return JSON.parse(r.stdout) as T;
  }

  /** `kubectl version -o json`: the server part, which proves the API is reachable with these credentials. */
  async serverVersion(): Promise<{ major: number; minor: number; gitVersion: string }> {
    if (this.proxy) return parseServerVersion(await this.httpMust<{ major: string; minor: string; gitVersion: string }>('GET', '/version', 'kubectl version'));
    const out = await this.must(['version', '-o', 'json', this.requestTimeout()]);
    const v = JSON.parse(out) as { serverVersion?: { major: string; minor: string; gitVersion: string } };
    if (!v.serverVersion) throw new KubeError('kubectl version: no server version in the answer', ['version'], out, 1);
    return parseServerVersion(v.serverVersion);
  }

  /** The context name and API server URL that kubectl (and helm) will use. Works offline: reads only the kubeconfig. */
  async currentTarget(): Promise<{ context: string; apiServerUrl: string; namespace?: string }> {
    const out = await this.must(['config', 'view', '--minify', '-o', 'json']);
    const cfg = JSON.parse(out) as {
      'current-context'?: string;
      contexts?: { name: string; context?: { namespace?: string } }[];
      clusters?: { cluster?: { server?: string } }[];
    };
    return {
      context: cfg['current-context'] ?? this.opts.context ?? '',
      apiServerUrl: cfg.clusters?.[0]?.cluster?.server ?? '',
      namespace: cfg.contexts?.[0]?.context?.namespace,
    };
  }

  /** SelfSubjectAccessReview for each check (one `kubectl create -f -` per check; the API has no batch form). */
  async accessReviews(checks: AccessCheck[]): Promise<AccessResult[]> {
    const one = async (c: AccessCheck): Promise<AccessResult> => {
      const review = reviewOf(c);
      // --validate=false: client-side validation would list CRDs, which a restricted user may not do.
      const out = await this.must(['create', '--validate=false', '-f', '-', '-o', 'json', this.requestTimeout()], { input: JSON.stringify(review) });
      const st = (JSON.parse(out) as { status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string } }).status ?? {};
      return { ...c, allowed: st.allowed === true, reason: st.reason || st.evaluationError || '' };
    };
    if (this.proxy) {
      // one small request each, all at once: the API has no batch form, but the connection is shared
      return Promise.all(
        checks.map(async (c) => {
          const review = reviewOf(c);
          const r = await this.httpMust<{ status?: { allowed?: boolean; reason?: string; evaluationError?: string } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', 'SelfSubjectAccessReview', { body: review });
          const st = r.status ?? {};
          return { ...c, allowed: st.allowed === true, reason: st.reason || st.evaluationError || '' };
        }),
      );
    }
    // A few at a time: each is a kubectl process (and an exec-plugin call, if the kubeconfig uses one).
    const results: AccessResult[] = [];
    for (let i = 0; i < checks.length; i += 6) {
      results.push(...(await Promise.all(checks.slice(i, i + 6).map(one))));
    }
    return results;
  }

  /**
   * Server-side dry-run of rendered manifests with strict field validation: every object goes through the real API
   * server (schema, strict fields, admission webhooks, Pod Security for bare Pods) and nothing is persisted.
   *
   * When the target namespace does not exist yet, namespaced objects cannot be dry-run there (NamespaceLifecycle
   * admission rejects them even in dry-run). Then: the Namespace object itself is dry-run created (proves we may create
   * it), and the namespaced objects are validated in `fallbackNamespace` (default: `default`). That proves schema and
   * strict-field validity and webhook admission, but not the target namespace's own admission (its Pod Security labels
   * or quotas, which don't exist yet); `note` says so.
   */
  async dryRunApply(
    objects: Record<string, unknown>[],
    namespace: string,
    o: { namespaceExists?: boolean; fallbackNamespace?: string; namespaceLabels?: Record<string, string> } = {},
  ): Promise<DryRunResult> {
    if (this.proxy) return this.dryRunApplyHttp(objects, namespace, o);
    const exists = o.namespaceExists ?? (await this.getObject('namespace', namespace)) !== undefined;
    let target = namespace;
    let note: string | undefined;
    const applied: string[] = [];
    const errors: string[] = [];
    if (!exists) {
      target = o.fallbackNamespace ?? 'default';
      note = `namespace ${namespace} does not exist yet: its creation was dry-run, and the namespaced objects were validated in namespace ${target} (schema, strict fields and webhooks are proven; ${namespace}'s own Pod Security labels and quotas are checked once it exists)`;
      const nsObj = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: o.namespaceLabels ?? {} } };
      const r = await this.run(['create', '--dry-run=server', '--validate=strict', '-f', '-', '-o', 'name', this.requestTimeout()], {
        input: JSON.stringify(nsObj),
      });
      if (r.exitCode === 0) applied.push(`${r.stdout.trim()} created (server dry run)`);
      else errors.push(...stderrErrors(r.stderr));
    }
    // Namespaced objects go to `target`: their metadata.namespace (helm templates usually set it) is rewritten so
    // kubectl does not refuse the mismatch.
    const items = objects.map((obj) => {
      const meta = (obj.metadata ?? {}) as Record<string, unknown>;
      if (meta.namespace === undefined || target === namespace) return obj;
      return { ...obj, metadata: { ...meta, namespace: target } };
    });
    const r = await this.run(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=robustmq-install-preflight', '--dry-run=server', '--validate=strict', '-n', target, '-f', '-', this.requestTimeout()],
      { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) },
    );
    applied.push(...r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
    if (r.exitCode !== 0) errors.push(...stderrErrors(r.stderr));
    const warnings = [...new Set(r.stderr.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('Warning: ')).map((l) => l.slice(9)))];
    return { ok: errors.length === 0, applied, errors, warnings, ...(note ? { note } : {}) };
  }

  /** The same dry-run as requests: discovery for the kinds at hand, then one apply PATCH per object, concurrently. */
  private async dryRunApplyHttp(objects: Record<string, unknown>[], namespace: string, o: { namespaceExists?: boolean; fallbackNamespace?: string; namespaceLabels?: Record<string, string> }): Promise<DryRunResult> {
    const exists = o.namespaceExists ?? (await this.getObject('namespace', namespace)) !== undefined;
    const applied: string[] = [];
    const errors: string[] = [];
    const warnings = new Set<string>();
    let target = namespace;
    let note: string | undefined;
    const dry = { dryRun: 'All', fieldValidation: 'Strict' };
    const nsCreate = exists
      ? Promise.resolve()
      : (async () => {
          const nsObj = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: o.namespaceLabels ?? {} } };
          const r = await this.http('POST', `/api/v1/namespaces${query(dry)}`, { body: nsObj });
          if (r.ok) applied.push(`namespace/${namespace} created (server dry run)`);
          else errors.push(applyErrorLine('Namespace', namespace, r.stderr));
        })();
    if (!exists) {
      target = o.fallbackNamespace ?? 'default';
      note = `namespace ${namespace} does not exist yet: its creation was dry-run, and the namespaced objects were validated in namespace ${target} (schema, strict fields and webhooks are proven; ${namespace}'s own Pod Security labels and quotas are checked once it exists)`;
    }
    // Discovery, once per apiVersion present: which plural a kind has and whether it is namespaced.
    const gvs = [...new Set(objects.map((x) => String(x.apiVersion ?? '')))];
    const kinds = new Map<string, ApiResource>();
    for (const found of await Promise.all(gvs.map((gv) => this.discover(gv)))) for (const [k, v] of found) kinds.set(k, v);
    await Promise.all([
      nsCreate,
      ...objects.map(async (obj) => {
        const kind = String(obj.kind ?? '');
        const meta = (obj.metadata ?? {}) as Record<string, unknown>;
        const name = String(meta.name ?? '');
        const api = kinds.get(`${String(obj.apiVersion ?? '')}/${kind}`);
        if (!api) {
          errors.push(`${kind} ${name}: the server does not know ${String(obj.apiVersion)} ${kind} (no matches for kind; is its CRD installed?)`);
          return;
        }
        const body = api.namespaced ? { ...obj, metadata: { ...meta, namespace: target } } : obj;
        const path = resourcePath(api, { namespace: api.namespaced ? target : undefined, name }) + query({ ...dry, fieldManager: 'robustmq-install-preflight', force: 'true' });
        const r = await this.http('PATCH', path, { body, contentType: 'application/apply-patch+yaml' });
        for (const w of r.warnings) warnings.add(w);
        if (r.ok) applied.push(`${kind.toLowerCase()}${api.group ? `.${api.group}` : ''}/${name} serverside-applied (server dry run)`);
        else errors.push(applyErrorLine(kind, name, r.stderr));
      }),
    ]);
    return { ok: errors.length === 0, applied, errors, warnings: [...warnings], ...(note ? { note } : {}) };
  }

  private readonly discovered = new Map<string, Promise<Map<string, ApiResource>>>();

  /**
   * The kinds an apiVersion serves (`apps/v1/StatefulSet` → its resource), asked once per run. `prefetch` lets a
   * caller ask while it waits for something else (preflight, while helm renders the chart).
   */
  discover(gv: string): Promise<Map<string, ApiResource>> {
    let p = this.discovered.get(gv);
    if (!p) {
      p = (async () => {
        const [group, version] = gv.includes('/') ? gv.split('/', 2) : ['', gv];
        const kinds = new Map<string, ApiResource>();
        if (!this.proxy) return kinds;
        const r = await this.http('GET', groupVersionPath(group!, version!));
        if (!r.ok) {
          this.discovered.delete(gv);
          return kinds;
        }
        for (const res of (JSON.parse(r.body) as { resources?: { name: string; kind: string; namespaced: boolean }[] }).resources ?? []) {
          if (!res.name.includes('/')) kinds.set(`${gv}/${res.kind}`, { group: group!, version: version!, plural: res.name, namespaced: res.namespaced });
        }
        return kinds;
      })();
      this.discovered.set(gv, p);
    }
    return p;
  }

  prefetchDiscovery(gvs: string[]): void {
    for (const gv of gvs) void this.discover(gv).catch(() => undefined);
  }

  /** Creates an object (the namespace, the credentials Secret); the JSON travels in the request body, never argv. */
  async create(obj: Record<string, unknown>): Promise<KubeResult> {
    const kind = String(obj.kind ?? '').toLowerCase();
    const meta = (obj.metadata ?? {}) as { name?: string; namespace?: string };
    const api = this.proxy && apiResource(kind);
    if (api) {
      const r = await this.http('POST', resourcePath(api, { namespace: meta.namespace }), { body: obj });
      // sent again after the proxy died under the first attempt, which had created it: that is success
      const ok = r.ok || (r.retried === true && r.status === 409);
      return { exitCode: ok ? 0 : 1, stdout: ok ? `${kind}/${meta.name}\n` : '', stderr: ok ? '' : r.stderr };
    }
    return this.run(['create', '-f', '-', '-o', 'name'], { input: JSON.stringify(obj) });
  }

  /** A JSON merge patch of one object (data on stdin or in the body, never argv). */
  async mergePatch(resource: string, name: string, namespace: string, patch: Record<string, unknown>): Promise<KubeResult> {
    const api = this.proxy && apiResource(resource);
    if (api) {
      const r = await this.http('PATCH', resourcePath(api, { namespace, name }), { body: patch, contentType: 'application/merge-patch+json' });
      return { exitCode: r.ok ? 0 : 1, stdout: '', stderr: r.stderr };
    }
    return this.run(['patch', resource, name, '-n', namespace, '--type=merge', '--patch-file=/dev/stdin'], { input: JSON.stringify(patch) });
  }

  /** GET through the API server (`kubectl get --raw`), e.g. a pods/proxy path. */
  async raw(path: string, o: { signal?: AbortSignal } = {}): Promise<KubeResult> {
    if (this.proxy) {
      const r = await this.http('GET', path, { ...(o.signal ? { signal: o.signal } : {}), accept: '*/*' });
      return { exitCode: r.ok ? 0 : 1, stdout: r.ok ? r.body : '', stderr: r.stderr };
    }
    return this.run(['get', '--raw', path, this.requestTimeout()], o);
  }

  /** `kubectl exec` without a TTY; the command's own exit code comes back in exitCode. */
  async exec(namespace: string, pod: string, container: string, command: string[], o: { timeoutMs?: number; input?: string } = {}): Promise<KubeResult> {
    return this.run(['exec', '-n', namespace, pod, '-c', container, ...(o.input ? ['-i'] : []), '--', ...command], {
      timeoutMs: o.timeoutMs ?? 30_000,
      input: o.input,
    });
  }

  /**
   * `kubectl exec` streaming binary data between the container and a file descriptor, never through memory: `stdoutFd`
   * receives the command's stdout (tar out of a pod), or `stdinFd` feeds its stdin (tar into a pod, `exec -i`). Own
   * process group, so the terminal's Ctrl-C reaches the CLI (which stops it through `signal`) and not kubectl directly.
   * stderr is kept (the last 64 KiB) for the error.
   */
  async execStream(namespace: string, pod: string, container: string, command: string[], o: { stdoutFd?: number; stdinFd?: number; signal?: AbortSignal }): Promise<KubeResult> {
    const argv = [...this.globalArgs(), 'exec', '-n', namespace, pod, '-c', container, ...(o.stdinFd !== undefined ? ['-i'] : []), '--', ...command];
    try {
      const r = await execa(this.kubectl, argv, {
        reject: false,
        detached: true,
        cancelSignal: o.signal,
        forceKillAfterDelay: 5000,
        env: { ...this.env },
        stdin: (o.stdinFd ?? 'ignore') as 'ignore',
        stdout: (o.stdoutFd ?? 'ignore') as 'ignore',
        stderr: 'pipe',
        maxBuffer: 1024 * 1024,
      });
      if (r.failed && r.exitCode === undefined) {
        if (/ENOENT/.test(String(r.originalMessage ?? r.message))) throw new KubeError(`kubectl not found (${this.kubectl}): install kubectl or set ROBUSTMQ_INSTALL_KUBECTL`, argv, '', 127);
        const why = r.isCanceled ? 'cancelled' : (r.originalMessage ?? r.message);
        return { exitCode: -1, stdout: '', stderr: `${String(r.stderr ?? '')}\n${why}`.trim() };
      }
      return { exitCode: r.exitCode ?? 1, stdout: '', stderr: String(r.stderr ?? '') };
    } catch (e) {
      if (e instanceof KubeError) throw e;
      throw new KubeError(`kubectl failed to start (${this.kubectl}): ${(e as Error).message}`, argv, '', 127);
    }
  }

  /** The last lines of a container's log; `previous` reads the crashed instance. Empty string when there is none. */
  async logs(namespace: string, pod: string, container: string, o: { tail?: number; previous?: boolean } = {}): Promise<string> {
    if (this.proxy) {
      const path = resourcePath(apiResource('pods')!, { namespace, name: pod, subresource: 'log' }) + query({ container, tailLines: o.tail ?? 50, previous: o.previous ? 'true' : undefined });
      const r = await this.http('GET', path, { accept: '*/*', timeoutMs: 30_000 });
      return r.ok ? r.body : '';
    }
    const args = ['logs', '-n', namespace, pod, '-c', container, `--tail=${o.tail ?? 50}`, this.requestTimeout()];
    if (o.previous) args.push('--previous');
    const r = await this.run(args, { timeoutMs: 30_000 });
    return r.exitCode === 0 ? r.stdout : '';
  }

  async describe(namespace: string, what: string[]): Promise<string> {
    const r = await this.run(['describe', '-n', namespace, ...what, this.requestTimeout()], { timeoutMs: 60_000 });
    return r.exitCode === 0 ? r.stdout : `(kubectl describe failed: ${r.stderr.trim()})`;
  }

  async events(namespace: string): Promise<K8sEvent[]> {
    return this.list<K8sEvent>('events', { namespace });
  }

  /** EndpointSlices of a Service (`kubernetes.io/service-name` label), never the deprecated Endpoints. */
  async endpointSlices(namespace: string, service: string): Promise<K8sObject[]> {
    return this.list('endpointslices.discovery.k8s.io', { namespace, selector: `kubernetes.io/service-name=${service}` });
  }

  async storageClasses(): Promise<StorageClassInfo[]> {
    const items = await this.list<K8sObject & { provisioner?: string; volumeBindingMode?: string; allowVolumeExpansion?: boolean }>('storageclasses.storage.k8s.io');
    return items.map((sc) => ({
      name: sc.metadata.name,
      isDefault: sc.metadata.annotations?.[DEFAULT_STORAGE_CLASS] === 'true' || sc.metadata.annotations?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true',
      provisioner: sc.provisioner ?? '',
      volumeBindingMode: sc.volumeBindingMode === 'WaitForFirstConsumer' ? 'WaitForFirstConsumer' : 'Immediate',
      allowVolumeExpansion: sc.allowVolumeExpansion === true,
    }));
  }

  async ingressClasses(): Promise<IngressClassInfo[]> {
    const items = await this.list<K8sObject & { spec?: { controller?: string } }>('ingressclasses.networking.k8s.io');
    return items.map((ic) => ({
      name: ic.metadata.name,
      isDefault: ic.metadata.annotations?.[DEFAULT_INGRESS_CLASS] === 'true',
      controller: ic.spec?.controller ?? '',
    }));
  }

  /** Names of installed CRDs (e.g. `servicemonitors.monitoring.coreos.com`). */
  async crdNames(): Promise<Set<string>> {
    if (this.proxy) {
      // names only: full CRD objects carry their whole schema, megabytes on a cluster with many operators
      const list = await this.httpMust<{ items?: { metadata: { name: string } }[] }>('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', 'kubectl get crds', {
        accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
      });
      return new Set((list.items ?? []).map((i) => i.metadata.name));
    }
    const r = await this.run(['get', 'customresourcedefinitions.apiextensions.k8s.io', '-o', 'name', this.requestTimeout()]);
    if (r.exitCode !== 0) throw new KubeError(`kubectl get crds: ${r.stderr.trim()}`, ['get', 'crds'], r.stderr, r.exitCode);
    return new Set(
      r.stdout
        .split('\n')
        .map((l) => l.trim().replace(/^customresourcedefinition\.apiextensions\.k8s\.io\//, ''))
        .filter(Boolean),
    );
  }

  /**
   * A streaming watch (`kubectl get -w -o json --output-watch-events`): lists first (ADDED events), then follows.
   * kubectl exits when the server closes the watch (timeouts, apiserver restarts); the watch then restarts, up to
   * `maxRestarts` consecutive failures, re-listing so nothing is missed.
   */
  watch<T extends K8sObject>(
    resource: string,
    o: {
      namespace: string;
      selector?: string;
      onChange?: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void;
      onError?: (message: string) => void;
      maxRestarts?: number;
      /** what is kept of each object (e.g. src/core/k8s-slim.ts); default: all of it */
      keep?: (obj: T) => T;
    },
  ): WatchHandle<T> {
    const api = this.proxy && apiResource(resource);
    if (api) return this.watchHttp<T>(api, resource, o);
    const objects = new Map<string, T>();
    let stopped = false;
    let current: ResultPromise | undefined;
    let failures = 0;
    const maxRestarts = o.maxRestarts ?? 5;
    const args = ['get', resource, '-n', o.namespace, '-w', '-o', 'json', '--output-watch-events'];
    if (o.selector) args.push('-l', o.selector);

    let runs = 0;
    const runOnce = async (): Promise<number> => {
      // A restarted watch lists everything again (ADDED events); objects deleted while it was down must not linger.
      if (runs++ > 0) objects.clear();
      const splitter = new JsonStreamSplitter();
      const sub = execa(this.kubectl, [...this.globalArgs(), ...args], { reject: false, buffer: { stdout: false, stderr: true }, env: { ...this.env } });
      current = sub;
      let gotAny = false;
      sub.stdout?.setEncoding('utf8');
      sub.stdout?.on('data', (chunk: string) => {
        const { docs, errors } = splitter.push(chunk);
        for (const e of errors) o.onError?.(`watch ${resource}: ${e}`);
        for (const d of docs) {
          const ev = d as { type?: string; object?: T };
          if (!ev.object?.metadata?.name) continue;
          gotAny = true;
          const obj = o.keep ? o.keep(ev.object) : ev.object;
          const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
          const type = ev.type === 'DELETED' ? 'DELETED' : ev.type === 'ADDED' ? 'ADDED' : 'MODIFIED';
          if (type === 'DELETED') objects.delete(key);
          else objects.set(key, obj);
          o.onChange?.(type, obj);
        }
      });
      const r = await sub;
      if (gotAny) failures = 0;
      if (!stopped && r.exitCode !== 0) o.onError?.(`watch ${resource} ended: ${lastLines(String(r.stderr ?? '')) || `exit ${r.exitCode}`}`);
      return r.exitCode ?? 1;
    };

    const done = (async () => {
      while (!stopped) {
        const code = await runOnce();
        if (stopped) break;
        if (code !== 0) failures++;
        if (failures > maxRestarts) break;
        await sleep(Math.min(500 * 2 ** failures, 5000));
      }
    })();

    return {
      done,
      objects: () => [...objects.values()],
      stop: async () => {
        stopped = true;
        current?.kill('SIGTERM');
        await done;
      },
    };
  }

  /**
   * list, then watch from the list's resourceVersion; a watch the server ends (its timeoutSeconds, an apiserver
   * restart) resumes from the last resourceVersion seen; `410 Gone` (too old) lists again, dropping stale objects.
   * A stream silent for longer than the server's own timeout is cut and resumed, so a hung proxy never hangs a run.
   */
  private watchHttp<T extends K8sObject>(
    api: ApiResource,
    resource: string,
    o: { namespace: string; selector?: string; onChange?: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void; onError?: (message: string) => void; maxRestarts?: number; keep?: (obj: T) => T },
  ): WatchHandle<T> {
    let objects = new Map<string, T>();
    const abort = new AbortController();
    const maxRestarts = o.maxRestarts ?? 5;
    const base = resourcePath(api, { namespace: o.namespace });
    const key = (x: T) => `${x.metadata.namespace ?? ''}/${x.metadata.name}`;
    const WATCH_SECONDS = 60;
    let rv: string | undefined;
    let failures = 0;

    const relist = async (): Promise<boolean> => {
      const r = await this.pagedList<T>(base, { labelSelector: o.selector }, o.keep, { signal: abort.signal }).catch((e: unknown) => ({ ok: false as const, status: 0, stderr: (e as Error).message }));
      if (!r.ok) {
        if (!abort.signal.aborted) o.onError?.(`watch ${resource}: list failed: ${r.stderr}`);
        return false;
      }
      rv = r.resourceVersion;
      const next = new Map<string, T>();
      for (const item of r.items) next.set(key(item), item);
      // what vanished while no watch was open
      for (const [k, old] of objects) if (!next.has(k)) o.onChange?.('DELETED', old);
      objects = next;
      for (const item of next.values()) o.onChange?.('ADDED', item);
      return true;
    };

    const watchOnce = async (): Promise<'resume' | 'relist' | 'failed'> => {
      const splitter = new LineSplitter();
      let gone = false;
      const path = base + query({ watch: 'true', resourceVersion: rv, allowWatchBookmarks: 'true', timeoutSeconds: WATCH_SECONDS, labelSelector: o.selector });
      try {
        const r = await this.proxy!.stream(path, {
          signal: abort.signal,
          idleMs: (WATCH_SECONDS + 30) * 1000,
          onData: (chunk) => {
            for (const line of splitter.push(chunk)) {
              let ev: { type?: string; object?: T & { code?: number; metadata?: { resourceVersion?: string } } };
              try {
                ev = JSON.parse(line) as typeof ev;
              } catch (e) {
                o.onError?.(`watch ${resource}: ${(e as Error).message}`);
                continue;
              }
              const served = ev.object;
              if (ev.type === 'ERROR') {
                if ((served as { code?: number } | undefined)?.code === 410) gone = true;
                else o.onError?.(`watch ${resource}: ${(served as { message?: string } | undefined)?.message ?? 'error event'}`);
                continue;
              }
              if (served?.metadata?.resourceVersion) rv = served.metadata.resourceVersion;
              if (ev.type === 'BOOKMARK' || !served?.metadata?.name) continue;
              failures = 0;
              // never read, and the largest part of a pod: kept, a thousand pods' worth costs tens of MB
              delete (served.metadata as { managedFields?: unknown }).managedFields;
              const obj = o.keep ? o.keep(served) : served;
              const type = ev.type === 'DELETED' ? 'DELETED' : ev.type === 'ADDED' ? 'ADDED' : 'MODIFIED';
              if (type === 'DELETED') objects.delete(key(obj));
              else objects.set(key(obj), obj);
              o.onChange?.(type, obj);
            }
          },
        });
        if (r.status === 410 || gone) return 'relist';
        if (r.status >= 300) {
          o.onError?.(`watch ${resource} ended: ${errorText(r.status, r.body)}`);
          return 'failed';
        }
        return 'resume';
      } catch (e) {
        if (!abort.signal.aborted) o.onError?.(`watch ${resource} ended: ${(e as Error).message}`);
        return 'failed';
      }
    };

    const done = (async () => {
      let listed = false;
      while (!abort.signal.aborted) {
        const step = listed ? await watchOnce() : (await relist()) ? 'resume' : 'failed';
        if (abort.signal.aborted) break;
        if (!listed && step === 'resume') {
          listed = true;
          continue;
        }
        if (step === 'resume') continue;
        if (step === 'relist') {
          listed = false;
          continue;
        }
        failures++;
        if (failures > maxRestarts) break;
        await sleep(Math.min(250 * 2 ** failures, 5000));
      }
    })();

    return {
      done,
      objects: () => [...objects.values()],
      stop: async () => {
        abort.abort();
        await done;
      },
    };
  }

  watchPods(namespace: string, selector: string, o: { onChange?: () => void; onError?: (m: string) => void } = {}): WatchHandle<K8sPod> {
    return this.watch<K8sPod>('pods', { namespace, selector, onChange: () => o.onChange?.(), onError: o.onError });
  }

  watchEvents(namespace: string, o: { onChange?: () => void; onError?: (m: string) => void } = {}): WatchHandle<K8sEvent> {
    return this.watch<K8sEvent>('events', { namespace, onChange: () => o.onChange?.(), onError: o.onError });
  }

  watchPvcs(namespace: string, selector: string, o: { onChange?: () => void; onError?: (m: string) => void } = {}): WatchHandle<K8sPvc> {
    return this.watch<K8sPvc>('persistentvolumeclaims', { namespace, selector, onChange: () => o.onChange?.(), onError: o.onError });
  }
}

function reviewOf(c: AccessCheck) {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: {
      resourceAttributes: {
        verb: c.verb,
        resource: c.resource,
        group: c.group ?? '',
        ...(c.namespace ? { namespace: c.namespace } : {}),
        ...(c.subresource ? { subresource: c.subresource } : {}),
      },
    },
  };
}

export function parseServerVersion(v: { major: string; minor: string; gitVersion: string }): { major: number; minor: number; gitVersion: string } {
  // Managed clusters report minors like "30+"; gitVersion is authoritative when it parses.
  const m = /^v(\d+)\.(\d+)/.exec(v.gitVersion);
  return {
    major: m ? Number(m[1]) : Number.parseInt(v.major, 10),
    minor: m ? Number(m[2]) : Number.parseInt(v.minor, 10),
    gitVersion: v.gitVersion,
  };
}

/** kubectl's stderr as one error per object/message line, without the noise lines. */
export function stderrErrors(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Warning: /.test(l) && !/^I\d{4} /.test(l));
}

function lastLines(s: string, n = 3): string {
  return s.trim().split('\n').filter(Boolean).slice(-n).join(' | ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
