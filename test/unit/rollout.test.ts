// The early "healthy" line of an upgrade must wait until helm's change has reached the StatefulSets.
import { describe, expect, it } from 'vitest';
import type { K8sStatefulSet } from '../../src/core/k8s-types.js';
import { rolledOutSince, stsGenerations } from '../../src/flows/watch.js';

const sts = (name: string, generation: number, observedGeneration: number): K8sStatefulSet =>
  ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, generation }, spec: { replicas: 3 }, status: { observedGeneration } }) as unknown as K8sStatefulSet;

describe('rolledOutSince', () => {
  const before = stsGenerations([sts('rmq-meta', 4, 4), sts('rmq-broker', 7, 7)]);

  it('is false while the StatefulSets are as they were before helm started', () => {
    expect(rolledOutSince(before, [sts('rmq-meta', 4, 4), sts('rmq-broker', 7, 7)])).toBe(false);
  });

  it('is false while the controller has not observed the new generation', () => {
    expect(rolledOutSince(before, [sts('rmq-meta', 5, 4), sts('rmq-broker', 8, 8)])).toBe(false);
  });

  it('is true once one changed and every generation is observed', () => {
    expect(rolledOutSince(before, [sts('rmq-meta', 5, 5), sts('rmq-broker', 7, 7)])).toBe(true);
  });

  it('counts a StatefulSet that did not exist before as a change (a role added by the upgrade)', () => {
    expect(rolledOutSince(before, [sts('rmq-meta', 4, 4), sts('rmq-broker', 7, 7), sts('rmq-engine', 1, 1)])).toBe(true);
  });
});
