// CSI VolumeSnapshots on the real node, the path the CLI's backup/restore commands will take: the test-only hostpath
// driver (docs/csi-hostpath.md) behind the real csi-provisioner, csi-snapshotter and snapshot-controller.
//  1. a claim on the CSI class binds once a pod uses it, and the pod (non-root, fsGroup) writes files into it;
//  2. a VolumeSnapshot of it with the Retain class becomes readyToUse; a later write to the source is not in it;
//  3. a claim restored from that snapshot (dataSource) has the files as they were at the snapshot;
//  4. with the namespace gone (the source claim, its volume and the VolumeSnapshot deleted), the content is kept
//     (Retain); a pre-provisioned VolumeSnapshotContent naming its snapshotHandle binds to a new VolumeSnapshot in
//     another namespace, becomes readyToUse, and a claim restored from it has the files.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { dropNamespace, eventually, kubectl, kubectlJson, kubectlTry } from '../e2e/cli.ts';
import { standinImage } from './node-helpers.ts';

const node = inject('realNode');
const source = 'node-csi-source';
const restoreNs = 'node-csi-restore';
const payload = `backup-payload-${Date.now()}`;
const preProvisioned = 'node-csi-preprovisioned';

function claim(namespace: string, name: string, dataSource?: { name: string }) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace },
    spec: {
      storageClassName: node.csiStorageClass,
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '64Mi' } },
      ...(dataSource ? { dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: dataSource.name } } : {}),
    },
  };
}

/** Runs `script` as 999 (fsGroup 999) with the claim at /data; resolves to its log once it Succeeded. */
async function runWithClaim(namespace: string, name: string, claimName: string, script: string): Promise<string> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
      containers: [{
        name: 'main',
        image: standinImage(),
        imagePullPolicy: 'IfNotPresent',
        command: ['bash', '-c', script],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      }],
    },
  };
  await kubectl(['apply', '-f', '-'], JSON.stringify(pod));
  const done = await kubectlTry(['wait', '-n', namespace, `pod/${name}`, '--for=jsonpath={.status.phase}=Succeeded', '--timeout=180s']);
  const logs = (await kubectlTry(['logs', '-n', namespace, name])).stdout;
  if (done.code !== 0) {
    const events = (await kubectlTry(['get', 'events', '-n', namespace, '-o', 'custom-columns=OBJ:.involvedObject.name,REASON:.reason,MSG:.message'])).stdout;
    throw new Error(`pod ${namespace}/${name} did not succeed: ${done.stderr}\n--- logs\n${logs}\n--- events\n${events}`);
  }
  // the next pod on the same claim can start at once; this one is done with it
  await kubectl(['delete', 'pod', '-n', namespace, name, '--wait=true']);
  return logs;
}

async function readySnapshot(namespace: string, name: string): Promise<any> {
  return eventually(`VolumeSnapshot ${namespace}/${name} readyToUse`, async () => {
    const s = await kubectlJson(['get', 'volumesnapshot', '-n', namespace, name]);
    if (s.status?.error) throw new Error(`snapshot error: ${JSON.stringify(s.status.error)}`);
    return s.status?.readyToUse === true ? s : undefined;
  }, 180_000);
}

const READ_BACK = 'cat /data/payload.txt; cat /data/sub/nested.txt; stat -c "owner %u:%g" /data/payload.txt';

describe('CSI VolumeSnapshots on the test-only hostpath driver', () => {
  let contentName = '';
  let snapshotHandle = '';
  let sourcePv = '';
  afterAll(async () => {
    await dropNamespace(source);
    await dropNamespace(restoreNs);
    // cluster-scoped; both Retain, so deleting them deletes nothing on the driver's side
    if (contentName) await kubectlTry(['delete', 'volumesnapshotcontent', contentName, '--ignore-not-found', '--wait=false']);
    await kubectlTry(['delete', 'volumesnapshotcontent', preProvisioned, '--ignore-not-found', '--wait=false']);
  });

  it('advertises the driver, the default StorageClass and the Retain (default) and Delete snapshot classes', async () => {
    const driver = await kubectlJson(['get', 'csidriver', node.csiDriver]);
    expect(driver.spec).toMatchObject({ attachRequired: false, fsGroupPolicy: 'File' });
    const csiNode = await kubectlJson(['get', 'csinode', node.nodeName]);
    expect(csiNode.spec.drivers.map((d: any) => [d.name, d.nodeID])).toEqual([[node.csiDriver, node.nodeName]]);
    const sc = await kubectlJson(['get', 'storageclass', node.csiStorageClass]);
    expect(sc.provisioner).toBe(node.csiDriver);
    // the node's only default class (a claim without storageClassName lands here, fsGroup applied)
    expect(sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']).toBe('true');
    const defaults = (await kubectlJson<{ items: any[] }>(['get', 'storageclasses'])).items
      .filter((c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true').map((c) => c.metadata.name);
    expect(defaults).toEqual([node.csiStorageClass]);
    const retain = await kubectlJson(['get', 'volumesnapshotclass', node.snapshotClassRetain]);
    expect([retain.driver, retain.deletionPolicy, retain.metadata.annotations?.['snapshot.storage.kubernetes.io/is-default-class']]).toEqual([node.csiDriver, 'Retain', 'true']);
    const del = await kubectlJson(['get', 'volumesnapshotclass', node.snapshotClassDelete]);
    expect([del.driver, del.deletionPolicy, del.metadata.annotations?.['snapshot.storage.kubernetes.io/is-default-class']]).toEqual([node.csiDriver, 'Delete', undefined]);
  });

  it('binds a claim on the CSI class and a non-root pod writes into it', async () => {
    await kubectl(['create', 'namespace', source]);
    await kubectl(['apply', '-f', '-'], JSON.stringify(claim(source, 'data')));
    const out = await runWithClaim(source, 'writer', 'data', [
      'set -eu',
      `echo ${payload} > /data/payload.txt`,
      'mkdir /data/sub && echo nested > /data/sub/nested.txt',
      READ_BACK,
    ].join('\n'));
    expect(out.trim().split('\n')).toEqual([payload, 'nested', 'owner 999:999']);
    const pvc = await kubectlJson(['get', 'pvc', '-n', source, 'data']);
    expect(pvc.status.phase).toBe('Bound');
    const pv = await kubectlJson(['get', 'pv', pvc.spec.volumeName]);
    expect(pv.spec.csi.driver).toBe(node.csiDriver);
    sourcePv = pv.metadata.name;
  });

  it('snapshots it with the Retain class (readyToUse) and restores the files as they were at the snapshot', async () => {
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: { name: 'backup', namespace: source },
      spec: { volumeSnapshotClassName: node.snapshotClassRetain, source: { persistentVolumeClaimName: 'data' } },
    }));
    const snap = await readySnapshot(source, 'backup');
    contentName = snap.status.boundVolumeSnapshotContentName;
    const content = await kubectlJson(['get', 'volumesnapshotcontent', contentName]);
    expect(content.spec).toMatchObject({ driver: node.csiDriver, deletionPolicy: 'Retain', volumeSnapshotClassName: node.snapshotClassRetain });
    expect(content.status.readyToUse).toBe(true);
    snapshotHandle = content.status.snapshotHandle;
    expect(snapshotHandle).toBeTruthy();

    // a change after the snapshot stays out of it: the snapshot is a copy, not a view of the volume
    await runWithClaim(source, 'overwriter', 'data', 'set -eu; echo changed-after-snapshot > /data/payload.txt');

    await kubectl(['apply', '-f', '-'], JSON.stringify(claim(source, 'restored', { name: 'backup' })));
    const out = await runWithClaim(source, 'reader', 'restored', `set -eu; ${READ_BACK}`);
    expect(out.trim().split('\n')).toEqual([payload, 'nested', 'owner 999:999']);
    const restored = await kubectlJson(['get', 'pvc', '-n', source, 'restored']);
    expect(restored.status.phase).toBe('Bound');
    expect(restored.spec.dataSource).toMatchObject({ kind: 'VolumeSnapshot', name: 'backup' });
  });

  it('keeps the content after the namespace is deleted, and restores from it through a pre-provisioned content', async () => {
    expect(snapshotHandle).toBeTruthy(); // from the test above
    await kubectl(['delete', 'namespace', source, '--wait=true', '--timeout=180s']);
    // the source volume itself is gone (reclaim Delete): what comes back below comes from the snapshot only
    await eventually(`PV ${sourcePv} deleted`, async () => (await kubectlTry(['get', 'pv', sourcePv])).code !== 0);
    const kept = await kubectlJson(['get', 'volumesnapshotcontent', contentName]);
    expect(kept.status).toMatchObject({ readyToUse: true, snapshotHandle });

    await kubectl(['create', 'namespace', restoreNs]);
    await kubectl(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshotContent',
          metadata: { name: preProvisioned },
          spec: {
            driver: node.csiDriver,
            deletionPolicy: 'Retain',
            volumeSnapshotClassName: node.snapshotClassRetain,
            source: { snapshotHandle },
            volumeSnapshotRef: { name: 'from-backup', namespace: restoreNs },
          },
        },
        {
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          metadata: { name: 'from-backup', namespace: restoreNs },
          spec: { volumeSnapshotClassName: node.snapshotClassRetain, source: { volumeSnapshotContentName: preProvisioned } },
        },
      ],
    }));
    const snap = await readySnapshot(restoreNs, 'from-backup');
    expect(snap.status.boundVolumeSnapshotContentName).toBe(preProvisioned);
    const content = await kubectlJson(['get', 'volumesnapshotcontent', preProvisioned]);
    // the snapshotter asked the driver (ListSnapshots by id): ready and sized by the driver, not copied from spec
    expect(content.status).toMatchObject({ readyToUse: true, snapshotHandle });
    expect(content.status.restoreSize).toBeGreaterThan(0);

    await kubectl(['apply', '-f', '-'], JSON.stringify(claim(restoreNs, 'data', { name: 'from-backup' })));
    const out = await runWithClaim(restoreNs, 'reader', 'data', `set -eu; ${READ_BACK}`);
    expect(out.trim().split('\n')).toEqual([payload, 'nested', 'owner 999:999']);
  });
});
