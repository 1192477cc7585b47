// The Kubernetes REST API as the CLI speaks it through `kubectl proxy` (src/shell/kube-proxy.ts): where a resource
// lives, how the server's answers and refusals read as the text kubectl would have printed (so callers, their
// classifiers and the user see the same messages on either path), and the stream framing of a watch. Pure.

export interface ApiResource {
  /** '' for the core group */
  group: string;
  version: string;
  /** the plural name in the URL */
  plural: string;
  namespaced: boolean;
}

// Only what the CLI reads; a resource not listed here goes through kubectl itself (which has discovery).
const RESOURCES: Record<string, ApiResource> = {
  pods: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  events: { group: '', version: 'v1', plural: 'events', namespaced: true },
  persistentvolumeclaims: { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true },
  services: { group: '', version: 'v1', plural: 'services', namespaced: true },
  secrets: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  configmaps: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  namespaces: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  'statefulsets.apps': { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  'storageclasses.storage.k8s.io': { group: 'storage.k8s.io', version: 'v1', plural: 'storageclasses', namespaced: false },
  'ingressclasses.networking.k8s.io': { group: 'networking.k8s.io', version: 'v1', plural: 'ingressclasses', namespaced: false },
  'customresourcedefinitions.apiextensions.k8s.io': { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false },
  'endpointslices.discovery.k8s.io': { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true },
  'volumesnapshots.snapshot.storage.k8s.io': { group: 'snapshot.storage.k8s.io', version: 'v1', plural: 'volumesnapshots', namespaced: true },
  'volumesnapshotcontents.snapshot.storage.k8s.io': { group: 'snapshot.storage.k8s.io', version: 'v1', plural: 'volumesnapshotcontents', namespaced: false },
  'volumesnapshotclasses.snapshot.storage.k8s.io': { group: 'snapshot.storage.k8s.io', version: 'v1', plural: 'volumesnapshotclasses', namespaced: false },
};
const ALIASES: Record<string, string> = {
  pod: 'pods',
  event: 'events',
  pvc: 'persistentvolumeclaims',
  persistentvolumeclaim: 'persistentvolumeclaims',
  service: 'services',
  svc: 'services',
  secret: 'secrets',
  configmap: 'configmaps',
  namespace: 'namespaces',
  ns: 'namespaces',
  statefulsets: 'statefulsets.apps',
  storageclasses: 'storageclasses.storage.k8s.io',
  ingressclasses: 'ingressclasses.networking.k8s.io',
  customresourcedefinitions: 'customresourcedefinitions.apiextensions.k8s.io',
  endpointslices: 'endpointslices.discovery.k8s.io',
  volumesnapshot: 'volumesnapshots.snapshot.storage.k8s.io',
  volumesnapshots: 'volumesnapshots.snapshot.storage.k8s.io',
  volumesnapshotcontent: 'volumesnapshotcontents.snapshot.storage.k8s.io',
  volumesnapshotcontents: 'volumesnapshotcontents.snapshot.storage.k8s.io',
  volumesnapshotclass: 'volumesnapshotclasses.snapshot.storage.k8s.io',
  volumesnapshotclasses: 'volumesnapshotclasses.snapshot.storage.k8s.io',
};

/** The API resource for a kubectl resource name (`pods`, `secret`, `statefulsets.apps`…), or undefined if unknown. */
export function apiResource(name: string): ApiResource | undefined {
  const n = name.toLowerCase();
  return RESOURCES[n] ?? RESOURCES[ALIASES[n] ?? ''];
}

export function groupVersionPath(group: string, version: string): string {
  return group ? `/apis/${group}/${version}` : `/api/${version}`;
}

/** The URL path of a collection or one object. A cluster-scoped resource ignores the namespace. */
export function resourcePath(r: ApiResource, o: { namespace?: string; name?: string; subresource?: string } = {}): string {
  let p = groupVersionPath(r.group, r.version);
  if (r.namespaced && o.namespace) p += `/namespaces/${encodeURIComponent(o.namespace)}`;
  p += `/${r.plural}`;
  if (o.name !== undefined) p += `/${encodeURIComponent(o.name)}`;
  if (o.subresource) p += `/${o.subresource}`;
  return p;
}

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

interface ApiStatus {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
}

/**
 * What kubectl would print for a failed request: `Error from server (NotFound): pods "x" not found` for an API
 * Status; `Unable to connect to the server: …` when the proxy could not reach the API server at all (it answers 502
 * or 500 with the dial error as plain text). Callers classify these exactly as they classify kubectl's stderr.
 */
export function errorText(status: number, body: string): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const s = JSON.parse(text) as ApiStatus;
      if (s.kind === 'Status') return `Error from server${s.reason ? ` (${s.reason})` : ''}: ${s.message ?? `HTTP ${status}`}`;
    } catch {
      // not JSON after all: fall through to the plain text
    }
  }
  if (!text) return `Error from server: HTTP ${status}`;
  if (/dial tcp|connection refused|no such host|i\/o timeout|TLS handshake|EOF$|getting credentials|exec:/i.test(text)) return `Unable to connect to the server: ${text}`;
  return `Error from server: ${text.split('\n')[0]}`;
}

/** Each `Warning` header of an answer (`299 - "text"`), as the text kubectl prints after `Warning: `. */
export function warningsFrom(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'warning') continue;
    const m = /^\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/.exec(rawHeaders[i + 1]!);
    out.push(m ? m[1]!.replace(/\\(.)/g, '$1') : rawHeaders[i + 1]!);
  }
  return out;
}

/**
 * A server-side apply refusal as one line naming the object. The API server words strict-validation failures of an
 * apply as `failed to create typed patch object (…): .spec.x: field not declared in schema`; they read as kubectl's
 * client-side `unknown field "spec.x"`, which is what the user typed wrong.
 */
export function applyErrorLine(kind: string, name: string, message: string): string {
  const fields = [...message.matchAll(/\.([\w.[\]-]+): field not declared in schema/g)].map((m) => m[1]!);
  if (fields.length) return `${kind} ${name}: ${fields.map((f) => `unknown field "${f}"`).join(', ')}`;
  return `${kind} ${name}: ${message.replace(/^Error from server(?: \(\w+\))?: /, '')}`;
}

/**
 * Splits a watch stream into events. The API server ends every JSON event with a newline and escapes newlines inside
 * strings, so a line is an event: no character-by-character scan is needed, which matters at thousands of pods.
 */
export class LineSplitter {
  private rest = '';
  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop()!;
    return lines.filter((l) => l.trim() !== '');
  }
  get pending(): boolean {
    return this.rest.trim() !== '';
  }
}

const KLOG = /[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] /;

/**
 * One line of kubectl proxy's stderr split into what the user must see (an exec plugin's prompt or message) and the
 * proxy's own log. A prompt has no newline, so the log line that follows it can share its line.
 */
export function splitProxyStderrLine(line: string): { user: string; log?: string } {
  const m = KLOG.exec(line);
  if (m) return { user: line.slice(0, m.index), log: line.slice(m.index) };
  if (isProxyLogLine(line)) return { user: '', log: line };
  return { user: line };
}

/** kubectl proxy's own log lines (klog: `E1204 20:36:26.590696 2949 proxy_server.go:147] …`) and its fatal `error: …`. */
export function isProxyLogLine(line: string): boolean {
  return /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] /.test(line) || /^error: /.test(line) || /^Starting to serve on /.test(line);
}
