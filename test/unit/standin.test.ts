import { describe, expect, it } from 'vitest';
import { isStandInImage, serverImages, standInImageOf, standInNote } from '../../src/core/standin.js';

describe('telling the test stand-in from RobustMQ by the server image', () => {
  it('the local replica is the stand-in, whatever registry, port, tag or digest', () => {
    for (const i of [
      'localhost/robustmq-standin:v0.4.11',
      'localhost:5000/robustmq-standin:v0.4.11',
      'registry.example/ci/robustmq-standin:v0.4.11',
      'localhost/robustmq-standin@sha256:' + 'a'.repeat(64),
      'robustmq-standin',
    ]) expect(isStandInImage(i), i).toBe(true);
  });
  it('never fires on the real image, however it is mirrored or tagged', () => {
    for (const i of [
      'ghcr.io/robustmq/robustmq:v0.4.11',
      'ghcr.io/robustmq/robustmq:robustmq-standin',
      'robustmq-standin:5000/robustmq/robustmq:v0.4.11',
      'robustmq-standin.example/robustmq:v0.4.11',
      'localhost/robustmq-standin-x:v0.4.11',
      'localhost/my-robustmq-standin:v0.4.11',
      'localhost/robustmq-standin/robustmq:v0.4.11',
      '',
    ]) expect(isStandInImage(i), i).toBe(false);
  });
  it('reads the server container of each pod and names the first stand-in image', () => {
    const pods = [
      { spec: { containers: [{ name: 'metrics', image: 'localhost/robustmq-standin:v0.4.11' }, { name: 'robustmq', image: 'ghcr.io/robustmq/robustmq:v0.4.11' }] } },
      { spec: { containers: [{ name: 'robustmq', image: 'localhost/robustmq-standin:v0.4.11' }] } },
      { spec: {} },
    ];
    expect(serverImages(pods)).toEqual(['ghcr.io/robustmq/robustmq:v0.4.11', 'localhost/robustmq-standin:v0.4.11', undefined]);
    expect(standInImageOf(serverImages(pods))).toBe('localhost/robustmq-standin:v0.4.11');
    expect(standInImageOf(serverImages(pods.slice(0, 1)))).toBeUndefined();
    expect(standInNote('localhost/robustmq-standin:v0.4.11')).toMatch(/^STAND-IN: .*localhost\/robustmq-standin:v0\.4\.11.*not RobustMQ/);
  });
});
