// The real node's dynamic volume provisioner for the `local-path` class (plain JS: it runs with `node` inside the
// node's namespaces, no build step). For every pending PVC of a StorageClass whose provisioner is PROVISIONER it makes
// a directory under the volumes dir and a PV pre-bound to the claim; for every Released PV it made, it removes both.
//   volumeType=hostPath-0777  hostPath PV on a 0777 dir: fsGroup ignored, anyone may write (local-path's way)
// (The node's default class, csi-hostpath, is the CSI driver's; a `local` PV type, fsGroup applied, was served here
// while this provisioner's `standard` class was the default.)
// Polling (1 s) instead of watches keeps it short; a test waits on PVC phases anyway.
// Usage: node provisioner.mjs SERVER CA CERT KEY NODE_NAME VOLUMES_DIR
import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const PROVISIONER = 'robustmq.test/realnode-local';
const [server, caFile, certFile, keyFile, nodeName, volumesDir] = process.argv.slice(2);
const tls = { ca: readFileSync(caFile), cert: readFileSync(certFile), key: readFileSync(keyFile) };
const agent = new https.Agent({ ...tls, keepAlive: true, maxSockets: 2 });

function api(method, p, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(`${server}${p}`, { method, agent, headers: { 'content-type': 'application/json' }, timeout: 10_000 }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (c) => (data += c)).on('end', () => {
        if (res.statusCode >= 200 && res.statusCode < 300) resolve(data ? JSON.parse(data) : {});
        else if (res.statusCode === 404 || res.statusCode === 409) resolve(undefined);
        else reject(new Error(`${method} ${p}: ${res.statusCode} ${data}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function volumeDir(pvName) {
  return path.join(volumesDir, pvName);
}

async function provision(pvc, sc) {
  const pvName = `pvc-${pvc.metadata.uid}`;
  const type = sc.parameters?.volumeType;
  if (type !== 'hostPath-0777') throw new Error(`StorageClass ${sc.metadata.name}: volumeType ${type} is not served (only hostPath-0777)`);
  const dir = volumeDir(pvName);
  mkdirSync(dir, { recursive: true });
  // chmod, not mkdir's mode: the umask would take the group/other bits off 0777.
  chmodSync(dir, 0o777);
  const source = { hostPath: { path: dir, type: 'Directory' } };
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: pvName, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER } },
    spec: {
      capacity: { storage: pvc.spec.resources?.requests?.storage ?? '1Gi' },
      accessModes: pvc.spec.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: 'Filesystem',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid },
      ...source,
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }] } },
    },
  };
  await api('POST', '/api/v1/persistentvolumes', pv);
  console.log(`provisioned ${pvName} (${type}) for ${pvc.metadata.namespace}/${pvc.metadata.name}`);
}

async function once() {
  const classes = new Map();
  for (const sc of (await api('GET', '/apis/storage.k8s.io/v1/storageclasses')).items) {
    if (sc.provisioner === PROVISIONER) classes.set(sc.metadata.name, sc);
  }
  const pvs = (await api('GET', '/api/v1/persistentvolumes')).items;
  const pvNames = new Set(pvs.map((pv) => pv.metadata.name));
  for (const pvc of (await api('GET', '/api/v1/persistentvolumeclaims')).items) {
    const sc = classes.get(pvc.spec.storageClassName);
    if (!sc || pvc.status?.phase !== 'Pending' || pvc.spec.volumeName || pvc.metadata.deletionTimestamp) continue;
    // WaitForFirstConsumer: the scheduler names the node once a pod using the claim is placed.
    if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !pvc.metadata.annotations?.['volume.kubernetes.io/selected-node']) continue;
    if (pvNames.has(`pvc-${pvc.metadata.uid}`)) continue;
    await provision(pvc, sc).catch((e) => console.error(String(e)));
  }
  for (const pv of pvs) {
    if (pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] !== PROVISIONER) continue;
    if (!['Released', 'Failed'].includes(pv.status?.phase) || pv.spec.persistentVolumeReclaimPolicy !== 'Delete') continue;
    rmSync(volumeDir(pv.metadata.name), { recursive: true, force: true });
    await api('DELETE', `/api/v1/persistentvolumes/${pv.metadata.name}`);
    console.log(`deleted ${pv.metadata.name}`);
  }
}

for (;;) {
  await once().catch((e) => console.error(String(e)));
  await new Promise((r) => setTimeout(r, 1_000));
}
