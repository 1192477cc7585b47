// Paths to the pinned tools that scripts/provision.sh puts in the cache. Tests never download anything themselves.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const HELM_VERSIONS = { 3: '3.17.2', 4: '4.1.4' } as const;
export type HelmMajor = keyof typeof HELM_VERSIONS;

export function toolCache(): string {
  return process.env.ROBUSTMQ_INSTALL_CACHE ?? join(homedir(), '.cache', 'robustmq-install');
}

function mustExist(path: string, what: string): string {
  if (!existsSync(path)) {
    throw new Error(`${what} not found at ${path}: run scripts/provision.sh first`);
  }
  return path;
}

export function helmPath(major: HelmMajor): string {
  const override = process.env[`HELM${major}_BIN`];
  return mustExist(override ?? join(toolCache(), 'helm', HELM_VERSIONS[major], 'helm'), `helm ${major}`);
}

export function helmBinaries(): { major: HelmMajor; version: string; path: string }[] {
  return ([3, 4] as const).map((major) => ({ major, version: HELM_VERSIONS[major], path: helmPath(major) }));
}

export function kubectlPath(): string {
  return mustExist(process.env.KUBECTL_BIN ?? join(toolCache(), 'helm', HELM_VERSIONS[4], 'kubectl'), 'kubectl');
}

/** The VolumeSnapshot CRDs from the external-snapshotter client module (scripts/provision.sh snapshot-crds). */
export const SNAPSHOTTER_VERSION = 'v8.7.0';
export function snapshotCrdsDir(): string {
  return mustExist(join(toolCache(), 'snapshot-crds', SNAPSHOTTER_VERSION), 'the VolumeSnapshot CRDs');
}
