// The REST side of src/shell/kube.ts's proxy path (src/core/kube-api.ts): where resources live, and how the API
// server's answers read as the text kubectl prints, so one classifier serves both paths.
import { describe, expect, it } from 'vitest';
import { apiResource, applyErrorLine, errorText, isProxyLogLine, LineSplitter, query, resourcePath, splitProxyStderrLine, warningsFrom } from '../../src/core/kube-api.js';
import { isUnreachable } from '../../src/shell/kube.js';
import { defaultTransport } from '../../src/shell/kube.js';
import { proxySupported } from '../../src/shell/kube-proxy.js';

describe('resource paths', () => {
  it('maps kubectl resource names, singular or plural, grouped or not', () => {
    expect(resourcePath(apiResource('pods')!, { namespace: 'ns' })).toBe('/api/v1/namespaces/ns/pods');
    expect(resourcePath(apiResource('secret')!, { namespace: 'ns', name: 'robustmq-credentials' })).toBe('/api/v1/namespaces/ns/secrets/robustmq-credentials');
    expect(resourcePath(apiResource('statefulsets.apps')!, { namespace: 'a' })).toBe('/apis/apps/v1/namespaces/a/statefulsets');
    expect(resourcePath(apiResource('pods')!, { namespace: 'a', name: 'p-0', subresource: 'log' })).toBe('/api/v1/namespaces/a/pods/p-0/log');
  });
  it('ignores the namespace of a cluster-scoped resource', () => {
    expect(resourcePath(apiResource('namespace')!, { namespace: 'x', name: 'x' })).toBe('/api/v1/namespaces/x');
    expect(resourcePath(apiResource('storageclasses.storage.k8s.io')!, { namespace: 'x' })).toBe('/apis/storage.k8s.io/v1/storageclasses');
  });
  it('knows nothing it was not told (kubectl, with its discovery, handles the rest)', () => {
    expect(apiResource('servicemonitors.monitoring.coreos.com')).toBeUndefined();
  });
  it('encodes query values and drops empty ones', () => {
    expect(query({ labelSelector: 'a=b,c=d', fieldSelector: undefined, watch: true })).toBe('?labelSelector=a%3Db%2Cc%3Dd&watch=true');
    expect(query({ x: '' })).toBe('');
  });
});

describe('answers as kubectl text', () => {
  it('an API Status reads as "Error from server (Reason): message"', () => {
    const body = JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'NotFound', message: 'pods "x" not found', code: 404 });
    expect(errorText(404, body)).toBe('Error from server (NotFound): pods "x" not found');
    const forbidden = JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'pods is forbidden: User "u" cannot list resource "pods"' });
    expect(errorText(403, forbidden)).toMatch(/^Error from server \(Forbidden\)/);
  });
  it("the proxy's own dial error reads as unreachable", () => {
    const t = errorText(500, 'dial tcp 127.0.0.1:36119: connect: connection refused\n');
    expect(t).toBe('Unable to connect to the server: dial tcp 127.0.0.1:36119: connect: connection refused');
    expect(isUnreachable(t)).toBe(true);
    expect(isUnreachable(errorText(403, JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'no' })))).toBe(false);
  });
  it('takes every Warning header apart, unquoted', () => {
    const raw = ['Content-Type', 'application/json', 'Warning', '299 - "would violate PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation != false"', 'warning', '299 - "second, with a comma"'];
    expect(warningsFrom(raw)).toEqual(['would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false', 'second, with a comma']);
  });
  it('words a strict apply refusal as the unknown field the user typed', () => {
    const msg = 'Error from server: failed to create typed patch object (default/robustmq; apps/v1, Kind=StatefulSet): .spec.template.spec.securityContext.notAField: field not declared in schema';
    expect(applyErrorLine('StatefulSet', 'robustmq', msg)).toBe('StatefulSet robustmq: unknown field "spec.template.spec.securityContext.notAField"');
    expect(applyErrorLine('Service', 's', 'Error from server (Invalid): Service "s" is invalid: spec.ports[0].port: Invalid value: 0')).toBe('Service s: Service "s" is invalid: spec.ports[0].port: Invalid value: 0');
  });
});

describe('watch stream framing', () => {
  it('one event per line, whatever the chunking, and nothing half-made', () => {
    const s = new LineSplitter();
    const ev = (n: number) => JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: `p-${n}` }, note: 'a\nb' } });
    const text = `${ev(1)}\n${ev(2)}\n${ev(3)}\n`;
    const got: string[] = [];
    for (let i = 0; i < text.length; i += 7) got.push(...s.push(text.slice(i, i + 7)));
    expect(got.map((l) => (JSON.parse(l) as { object: { metadata: { name: string } } }).object.metadata.name)).toEqual(['p-1', 'p-2', 'p-3']);
    expect(s.pending).toBe(false);
    expect(s.push('{"type":"ADD')).toEqual([]);
    expect(s.pending).toBe(true);
  });
});

describe('kubectl proxy stderr', () => {
  it("tells the proxy's log lines from an exec plugin's text (which the user must see)", () => {
    expect(isProxyLogLine('E1204 20:36:26.590696    2949 proxy_server.go:147] Error while proxying request: context canceled')).toBe(true);
    expect(isProxyLogLine('error: context "nope" does not exist')).toBe(true);
    expect(isProxyLogLine('Starting to serve on /run/user/0/robustmq-install-x/proxy.sock')).toBe(true);
    expect(isProxyLogLine('To sign in, open https://login.example/device and enter the code ABCD-EFGH')).toBe(false);
    expect(isProxyLogLine('Password: ')).toBe(false);
  });
  it('a prompt without a newline, followed by a log line, keeps the prompt', () => {
    expect(splitProxyStderrLine('Password: E1204 20:47:02.824134    4207 proxy_server.go:147] Error while proxying request: EOF')).toEqual({
      user: 'Password: ',
      log: 'E1204 20:47:02.824134    4207 proxy_server.go:147] Error while proxying request: EOF',
    });
    expect(splitProxyStderrLine('error: context "x" does not exist')).toEqual({ user: '', log: 'error: context "x" does not exist' });
    expect(splitProxyStderrLine('open https://example/device')).toEqual({ user: 'open https://example/device' });
  });
});

describe('transport choice', () => {
  it('the proxy where unix sockets work; per-call kubectl on Windows or when asked', () => {
    expect(defaultTransport({}, 'linux')).toBe('proxy');
    expect(defaultTransport({}, 'darwin')).toBe('proxy');
    expect(defaultTransport({}, 'win32')).toBe('kubectl');
    expect(defaultTransport({ ROBUSTMQ_INSTALL_KUBE_TRANSPORT: 'kubectl' }, 'linux')).toBe('kubectl');
  });
  it('a socket path that would not fit sun_path falls back too', () => {
    expect(proxySupported('linux', '/tmp')).toBe(true);
    expect(proxySupported('linux', `/${'x'.repeat(90)}`)).toBe(false);
  });
});
