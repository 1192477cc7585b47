// Small process, HTTP and PKI helpers of the test clusters (test/support/controlplane.ts, realnode.ts).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';

/** Runs a command; resolves with its stdout, rejects with its stderr. */
export function run(cmd: string, args: string[], input?: string, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** GET over TLS with the cluster's client certificate: the body of a 200, else an error. */
export function httpsGet(url: string, tls: https.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...tls, timeout: 3_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode} ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** The last lines of a component's log, for an error that says why it did not come up. */
export function tailOf(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const secs = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1);

// PKI: one shell script per cluster, one openssl call per certificate (OpenSSL 3 `req -x509 -CA`), EC P-256: fast to
// generate. Run in the directory that holds ca.crt/ca.key.
export const caCommand = (subj: string) =>
  `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj '${subj}' ` +
  `-keyout ca.key -out ca.crt -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign`;

export const leaf = (name: string, subj: string, eku: string, san?: string) =>
  `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -CA ca.crt -CAkey ca.key ` +
  `-subj '${subj}' -keyout ${name}.key -out ${name}.crt -addext basicConstraints=critical,CA:FALSE ` +
  `-addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=${eku}` + (san ? ` -addext subjectAltName=${san}` : '');

/** Every name in-cluster and host-side clients reach the apiserver by (10.96.0.1: the kubernetes Service). */
export const apiserverSansFor = (ip: string) =>
  [
    'IP:127.0.0.1', `IP:${ip}`, 'IP:10.96.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local',
  ].join(',');

/** The certificates every test control plane issues: apiserver, its kubelet client, admin, controller-manager, scheduler. */
export const controlPlaneLeaves = (apiserverIp: string) => [
  leaf('apiserver', '/CN=kube-apiserver', 'serverAuth', apiserverSansFor(apiserverIp)),
  leaf('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'clientAuth'),
  leaf('admin', '/O=system:masters/CN=robustmq-test-admin', 'clientAuth'),
  leaf('kcm', '/CN=system:kube-controller-manager', 'clientAuth'),
  leaf('scheduler', '/CN=system:kube-scheduler', 'clientAuth'),
];
