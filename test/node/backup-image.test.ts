// The backup CronJob's image (localhost/backup-kubectl:<kubectl version>, test/images/build.sh) on the real node,
// before any scheduled backup relies on it: the chart's own backup objects (ServiceAccount, Role, RoleBinding) and the
// CronJob's pod spec exactly as rendered with backupImageSets() (pod and container security context, HOME=/tmp, the
// /tmp emptyDir), in a namespace enforcing Pod Security `restricted`. Only the command differs: instead of backup.sh
// (which needs PVCs and the VolumeSnapshot API), a probe of what backup.sh uses: kubectl, date, the API through the
// backup ServiceAccount, its Role's reach.
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { dropNamespace, helmLocal, kubectl, kubectlTry } from '../e2e/cli.ts';
import { backupImageSets, secs } from './node-helpers.ts';

const ns = 'node-backup-image';
const release = 'rmq';

describe('the backup CronJob image', () => {
  afterAll(() => dropNamespace(ns));

  it("runs under the CronJob's pod spec: kubectl and date work, the API answers through the backup ServiceAccount", async () => {
    const t0 = Date.now();
    const r = await helmLocal(4, [
      'template', release, 'chart/robustmq', '--namespace', ns, '--set', 'backup.enabled=true', ...backupImageSets(),
      '-s', 'templates/backup/serviceaccount.yaml', '-s', 'templates/backup/role.yaml', '-s', 'templates/backup/rolebinding.yaml',
      '-s', 'templates/backup/cronjob.yaml',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const objs = parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
    const cron = objs.find((o) => o.kind === 'CronJob');
    const podSpec = structuredClone(cron.spec.jobTemplate.spec.template.spec);
    const c = podSpec.containers[0];
    expect(c.image).toMatch(/^localhost\/backup-kubectl:\d+\.\d+\.\d+$/);
    // the scripts ConfigMap is not installed here; everything else of the pod stays as rendered
    podSpec.volumes = podSpec.volumes.filter((v: any) => v.name !== 'scripts');
    c.volumeMounts = c.volumeMounts.filter((m: any) => m.name !== 'scripts');
    c.command = ['/bin/sh', '-c', [
      'set -eu',
      'echo "id: $(id -u):$(id -g) sh=$(readlink -f /bin/sh)"',
      'kubectl version --client',
      'echo "stamp: $(date -u +%Y%m%dT%H%M%SZ) $(date -u -d @1735787045 +%Y%m%d-%H%M%S)"',
      'echo "server: $(kubectl get --raw /version | sed -n \'s/.*"gitVersion": *"\\([^"]*\\)".*/\\1/p\')"',
      // the Role's reach, asked with the image's kubectl: what backup.sh reads, never Secrets
      'echo "can list statefulsets: $(kubectl auth can-i list statefulsets.apps -n "$RMQ_NAMESPACE" || true)"',
      'echo "can get secrets: $(kubectl auth can-i get secrets -n "$RMQ_NAMESPACE" || true)"',
      'echo "statefulsets: [$(kubectl get statefulsets -n "$RMQ_NAMESPACE" -l "$RMQ_SELECTOR" -o name)]"',
      'if touch /probe 2>/dev/null; then echo "root: writable"; else echo "root: read-only"; fi',
    ].join('\n')];
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'backup-image-probe', namespace: ns, labels: cron.spec.jobTemplate.spec.template.metadata.labels }, spec: podSpec };

    await kubectl(['create', 'namespace', ns]);
    await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
    const rbac = objs.filter((o) => o.kind !== 'CronJob');
    expect(rbac.map((o) => o.kind).sort()).toEqual(['Role', 'RoleBinding', 'ServiceAccount']);
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...rbac, pod] }));
    const done = await kubectlTry(['wait', '-n', ns, 'pod/backup-image-probe', '--for=jsonpath={.status.phase}=Succeeded', '--timeout=120s']);
    const logs = (await kubectlTry(['logs', '-n', ns, 'backup-image-probe'])).stdout;
    expect(done.code, `${done.stderr}\n--- logs\n${logs}`).toBe(0);

    expect(logs).toMatch(/^id: 999:999 sh=\/usr\/bin\/dash$/m);
    expect(logs).toMatch(/^Client Version: v\d+\.\d+\.\d+$/m);
    expect(logs).toMatch(/^stamp: \d{8}T\d{6}Z 20250102-030405$/m);
    expect(logs).toMatch(/^server: v\d+\.\d+\.\d+/m);
    expect(logs).toMatch(/^can list statefulsets: yes$/m);
    expect(logs).toMatch(/^can get secrets: no$/m);
    expect(logs).toMatch(/^statefulsets: \[\]$/m);
    expect(logs).toMatch(/^root: read-only$/m);
    expect(logs).not.toMatch(/not found|forbidden|couldn't get current server API group list/i);
    console.log(`node-backup-image: ${c.image} probed in ${secs(t0)}s\n${logs}`);
  });
});
