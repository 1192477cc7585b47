import { describe, expect, it } from 'vitest';
import {
  applyMethodFromMetadata,
  connectionFlags,
  deployArgv,
  formatCommand,
  privateRepoName,
  repoAddArgv,
  resolveChart,
  rollbackArgv,
  shellQuote,
  templateArgv,
  uninstallArgv,
  waitFlags,
  type DeployInput,
} from '../../src/core/flags.js';

const base: DeployInput = {
  helmMajor: 4,
  action: 'install',
  release: 'robustmq',
  namespace: 'mq',
  chart: { ref: '/pkg/chart/robustmq' },
  valuesFile: '/tmp/v.yaml',
  timeout: '10m',
};

describe('deploy argv per helm major', () => {
  it('helm 4 install: watcher wait, create namespace, never rollback-on-failure', () => {
    expect(deployArgv({ ...base, helmRollback: true })).toEqual([
      'install', 'robustmq', '/pkg/chart/robustmq', '--namespace', 'mq', '--create-namespace', '--values', '/tmp/v.yaml', '--wait=watcher', '--timeout', '10m',
    ]);
  });
  it('helm 3 install: plain --wait, never --atomic', () => {
    const argv = deployArgv({ ...base, helmMajor: 3, helmRollback: true });
    expect(argv).toContain('--wait');
    expect(argv).not.toContain('--atomic');
    expect(argv).not.toContain('--wait=watcher');
  });
  it('upgrade uses reset-then-reuse; helm-managed rollback maps to --rollback-on-failure (4) / --atomic (3)', () => {
    const u4 = deployArgv({ ...base, action: 'upgrade', helmRollback: true });
    expect(u4.slice(0, 3)).toEqual(['upgrade', 'robustmq', '/pkg/chart/robustmq']);
    expect(u4).toContain('--reset-then-reuse-values');
    expect(u4).toContain('--rollback-on-failure');
    expect(u4).not.toContain('--create-namespace');
    const u3 = deployArgv({ ...base, helmMajor: 3, action: 'upgrade', helmRollback: true });
    expect(u3).toContain('--atomic');
    expect(u3).toContain('--wait');
    expect(deployArgv({ ...base, action: 'upgrade' })).not.toContain('--rollback-on-failure');
  });
  it('helm 4 upgrade inherits the apply method; helm 3 never gets --server-side', () => {
    expect(deployArgv({ ...base, action: 'upgrade', inheritedApplyMethod: 'server-side' })).toContain('--server-side=true');
    expect(deployArgv({ ...base, action: 'upgrade', inheritedApplyMethod: 'client-side' })).toContain('--server-side=false');
    expect(deployArgv({ ...base, action: 'upgrade' }).some((a) => a.startsWith('--server-side'))).toBe(false);
    expect(deployArgv({ ...base, helmMajor: 3, action: 'upgrade', inheritedApplyMethod: 'server-side' }).some((a) => a.startsWith('--server-side'))).toBe(false);
    expect(deployArgv({ ...base, inheritedApplyMethod: 'client-side' }).some((a) => a.startsWith('--server-side'))).toBe(false);
  });
  it('dry-run modes and chart pass-through flags', () => {
    expect(deployArgv({ ...base, dryRun: 'server' })).toContain('--dry-run=server');
    expect(deployArgv({ ...base, helmMajor: 3, dryRun: 'client' })).toContain('--dry-run=client');
    const a = deployArgv({ ...base, chart: { ref: 'oci://r/robustmq', version: '1.0.0', plainHttp: true, caFile: '/ca' }, kubeContext: 'c', kubeconfig: '/k' });
    expect(a).toEqual(expect.arrayContaining(['--version', '1.0.0', '--plain-http', '--ca-file', '/ca', '--kube-context', 'c', '--kubeconfig', '/k']));
    expect(deployArgv({ ...base, wait: false }).some((x) => x.startsWith('--wait'))).toBe(false);
  });
});

describe('other commands', () => {
  it('rollback/uninstall/template/connection', () => {
    expect(rollbackArgv({ helmMajor: 4, release: 'r', namespace: 'n', revision: 2, timeout: '5m' })).toEqual(['rollback', 'r', '2', '--namespace', 'n', '--wait=watcher', '--timeout', '5m']);
    expect(rollbackArgv({ helmMajor: 3, release: 'r', namespace: 'n', timeout: '5m' })).toEqual(['rollback', 'r', '--namespace', 'n', '--wait', '--timeout', '5m']);
    expect(uninstallArgv({ helmMajor: 3, release: 'r', namespace: 'n', timeout: '5m' })).toEqual(['uninstall', 'r', '--namespace', 'n', '--wait', '--timeout', '5m']);
    expect(templateArgv({ release: 'r', namespace: 'n', chart: { ref: 'c' }, valuesFile: 'v', apiVersions: ['monitoring.coreos.com/v1/ServiceMonitor'], kubeVersion: 'v1.36.0' })).toEqual([
      'template', 'r', 'c', '--namespace', 'n', '--values', 'v', '--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor', '--kube-version', 'v1.36.0',
    ]);
    expect(connectionFlags({ namespace: 'n' })).toEqual(['--namespace', 'n']);
    expect(waitFlags(4)).toEqual(['--wait=watcher']);
    expect(waitFlags(3)).toEqual(['--wait']);
  });
  it('reads helm 4 metadata apply methods; absent is unknown', () => {
    expect(applyMethodFromMetadata('{"name":"r","applyMethod":"ssa"}')).toBe('server-side');
    expect(applyMethodFromMetadata('{"apply_method":"csa"}')).toBe('client-side');
    expect(applyMethodFromMetadata('{"name":"r"}')).toBeUndefined();
    expect(applyMethodFromMetadata('not json')).toBeUndefined();
  });
});

describe('charts and repos', () => {
  const bundledPath = '/pkg/chart/robustmq';
  it('classifies --chart', () => {
    expect(resolveChart({ bundledPath }, () => false)).toEqual({ kind: 'bundled', source: { ref: bundledPath } });
    expect(resolveChart({ bundledPath, chart: 'oci://ghcr.io/x/robustmq', chartVersion: '1.0.0', plainHttp: true }, () => false)).toMatchObject({ kind: 'oci', source: { ref: 'oci://ghcr.io/x/robustmq', version: '1.0.0', plainHttp: true } });
    expect(resolveChart({ bundledPath, chart: './robustmq-0.1.0.tgz', chartVersion: '9' }, () => true)).toMatchObject({ kind: 'local', source: { ref: './robustmq-0.1.0.tgz', version: undefined } });
    expect(resolveChart({ bundledPath, chart: 'myrepo/robustmq' }, () => false)).toMatchObject({ kind: 'repo', source: { ref: 'myrepo/robustmq' } });
    const r = resolveChart({ bundledPath, chart: 'robustmq', repoUrl: 'https://charts.example.com' }, () => false);
    expect(r.kind).toBe('repo');
    expect(r.source.ref).toBe(`${privateRepoName('https://charts.example.com')}/robustmq`);
    expect(r.repoUrl).toBe('https://charts.example.com');
  });
  it('private repo names are stable, distinct and cannot be a plain user name', () => {
    const a = privateRepoName('https://a.example.com');
    expect(a).toMatch(/^robustmq-install-[0-9a-f]{10}$/);
    expect(privateRepoName('https://a.example.com')).toBe(a);
    expect(privateRepoName('https://b.example.com')).not.toBe(a);
    expect(repoAddArgv('https://a.example.com', { caFile: '/ca' })).toEqual(['repo', 'add', a, 'https://a.example.com', '--force-update', '--ca-file', '/ca']);
  });
  it('quotes for a POSIX shell', () => {
    expect(shellQuote('plain-arg_1.2/x:y=z,w@%+')).toBe('plain-arg_1.2/x:y=z,w@%+');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('x={a,b}')).toBe("'x={a,b}'");
    expect(formatCommand(['install', 'r', 'a b'])).toBe("helm install r 'a b'");
  });
});
