// A "healthy" verdict counts only once helm's change has reached the StatefulSets: with --helm-wait the early line
// of an upgrade (rolledOutSince); without it, the end of the run (caughtUp, against the StatefulSets helm left).
import { describe, expect, it } from 'vitest';
import type { K8sStatefulSet } from '../../src/core/k8s-types.js';
import { caughtUp, rolledOutSince, stsGenerations } from '../../src/flows/watch.js';

const sts = (name: string, generation: number, observedGeneration?: number, deleting = false): K8sStatefulSet =>
  ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, generation, ...(deleting ? { deletionTimestamp: '2026-12-05T00:00:00Z' } : {}) }, spec: { replicas: 3 }, status: observedGeneration === undefined ? {} : { observedGeneration } }) as unknown as K8sStatefulSet;

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

describe('caughtUp (helm applied; the watch must see what it left)', () => {
  const applied = stsGenerations([sts('rmq-meta', 5, 4), sts('rmq-broker', 8, 8)]);

  it('is false while the watch still shows an older generation, or the controller has not observed it', () => {
    expect(caughtUp(applied, [sts('rmq-meta', 4, 4), sts('rmq-broker', 8, 8)])).toBe(false);
    expect(caughtUp(applied, [sts('rmq-meta', 5, 4), sts('rmq-broker', 8, 8)])).toBe(false);
  });

  it('is true once every StatefulSet is at (or past) the applied generation and observed', () => {
    expect(caughtUp(applied, [sts('rmq-meta', 5, 5), sts('rmq-broker', 8, 8)])).toBe(true);
    expect(caughtUp(applied, [sts('rmq-meta', 6, 6), sts('rmq-broker', 8, 8)])).toBe(true);
  });

  it('holds for an upgrade that changed no StatefulSet (where rolledOutSince never would)', () => {
    const same = [sts('rmq-meta', 4, 4), sts('rmq-broker', 7, 7)];
    expect(caughtUp(stsGenerations(same), same)).toBe(true);
    expect(rolledOutSince(stsGenerations(same), same)).toBe(false);
  });

  it('is false while the watch lacks a StatefulSet helm created, or still has one helm removed', () => {
    expect(caughtUp(applied, [sts('rmq-meta', 5, 5)])).toBe(false);
    expect(caughtUp(applied, [sts('rmq-meta', 5, 5), sts('rmq-broker', 8, 8), sts('rmq-combined', 3, 3)])).toBe(false);
    // one being deleted is not live: it does not count
    expect(caughtUp(applied, [sts('rmq-meta', 5, 5), sts('rmq-broker', 8, 8), sts('rmq-combined', 3, 3, true)])).toBe(true);
  });

  it('a fresh StatefulSet (generation 1) needs no observed status: it has only ever had one spec', () => {
    const fresh = stsGenerations([sts('rmq-meta', 1), sts('rmq-broker', 1)]);
    expect(caughtUp(fresh, [sts('rmq-meta', 1), sts('rmq-broker', 1)])).toBe(true);
    // a later generation does
    expect(caughtUp(stsGenerations([sts('rmq-meta', 2)]), [sts('rmq-meta', 2, 1)])).toBe(false);
  });
});
