import { describe, expect, it } from 'vitest';
import { formatValuesPlan, formatViolation, groupOfKey, installOnlyViolations, valuesPlan } from '../../src/core/upgrade-plan.js';

describe('values-level plan', () => {
  const current = {
    topology: 'combined',
    combined: { replicaCount: 3, metaReplicas: 3, persistence: { size: '10Gi' } },
    config: { cluster_name: 'robustmq' },
    auth: { existingSecret: 'robustmq-credentials' },
  };
  it('shows changed keys only, grouped by question, in question order', () => {
    const next = { ...current, combined: { ...current.combined, replicaCount: 5 }, config: { cluster_name: 'robustmq', mqtt_runtime: { max_connection_num: 2000 } }, service: { type: 'LoadBalancer' } };
    const groups = valuesPlan(current, next);
    expect(groups.map((g) => g.group)).toEqual(['replicas', 'MQTT exposure', 'RobustMQ configuration']);
    expect(formatValuesPlan(groups)).toEqual([
      '  replicas:',
      '    combined.replicaCount: 3 → 5',
      '  MQTT exposure:',
      '    service.type: (unset) → LoadBalancer',
      '  RobustMQ configuration:',
      '    config.mqtt_runtime.max_connection_num: (unset) → 2000',
    ]);
  });
  it('says so when nothing changes', () => {
    expect(formatValuesPlan(valuesPlan(current, structuredClone(current)))).toEqual(['  no value changes']);
  });
  it('groups keys', () => {
    expect(groupOfKey('meta.persistence.size')).toBe('storage');
    expect(groupOfKey('broker.resources.requests.cpu')).toBe('resources');
    expect(groupOfKey('broker.tolerations')).toBe('scheduling and pods');
    expect(groupOfKey('metrics.serviceMonitor.enabled')).toBe('monitoring');
    expect(groupOfKey('global.imageRegistry')).toBe('image');
    expect(groupOfKey('networkPolicy.enabled')).toBe('other');
  });
});

describe('install-only keys', () => {
  const computed = {
    topology: 'split',
    clusterDomain: 'cluster.local',
    nameOverride: '',
    fullnameOverride: '',
    meta: { replicaCount: 3, persistence: { enabled: true, size: '8Gi', storageClass: '', accessModes: ['ReadWriteOnce'] } },
    broker: { replicaCount: 3, persistence: { enabled: true, size: '8Gi', storageClass: '', accessModes: ['ReadWriteOnce'] } },
    engine: { replicaCount: 3, persistence: { enabled: true, size: '20Gi', storageClass: '', accessModes: ['ReadWriteOnce'] } },
  };
  it('allows replicas and everything else', () => {
    const next = structuredClone(computed);
    next.broker.replicaCount = 5;
    expect(installOnlyViolations(computed, next)).toEqual([]);
  });
  it('refuses storage size, naming the key and the way out', () => {
    const next = structuredClone(computed);
    next.engine.persistence.size = '50Gi';
    const v = installOnlyViolations(computed, next);
    expect(v).toHaveLength(1);
    expect(formatViolation(v[0]!)).toBe('engine.persistence.size cannot change on upgrade (20Gi → 50Gi): volumeClaimTemplates of a StatefulSet are immutable');
    expect(v[0]!.wayOut).toMatch(/resize each PVC/);
  });
  it('refuses topology, clusterDomain, names and storage class', () => {
    const next = { ...structuredClone(computed), topology: 'combined', clusterDomain: 'corp.local', fullnameOverride: 'mq' };
    next.meta.persistence.storageClass = 'fast';
    expect(installOnlyViolations(computed, next).map((x) => x.key)).toEqual(['topology', 'clusterDomain', 'fullnameOverride', 'meta.persistence.storageClass']);
  });
  it('treats unset and empty as the same (helm get values --all vs an overlay)', () => {
    const next = structuredClone(computed) as Record<string, unknown>;
    delete next.nameOverride;
    expect(installOnlyViolations(computed, next as typeof computed)).toEqual([]);
  });
});
