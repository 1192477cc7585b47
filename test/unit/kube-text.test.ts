import { describe, expect, it } from 'vitest';
import { isUnreachable, parseServerVersion, stderrErrors } from '../../src/shell/kube.js';

// Text kubectl prints, as the API server and client-go word it.
describe('kubectl output parsing', () => {
  it('tells an unreachable API from an answered error', () => {
    expect(isUnreachable('The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?')).toBe(true);
    expect(isUnreachable('Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout')).toBe(true);
    expect(isUnreachable('error: context "nope" does not exist')).toBe(true);
    expect(isUnreachable('Error from server (Forbidden): pods is forbidden: User "x" cannot list resource "pods"')).toBe(false);
  });

  it('reads managed clusters\' "30+" minors from gitVersion', () => {
    expect(parseServerVersion({ major: '1', minor: '30+', gitVersion: 'v1.30.4-eks-a737599' })).toEqual({ major: 1, minor: 30, gitVersion: 'v1.30.4-eks-a737599' });
    expect(parseServerVersion({ major: '1', minor: '36', gitVersion: 'v1.36.3' })).toEqual({ major: 1, minor: 36, gitVersion: 'v1.36.3' });
  });

  it('keeps one error per object and drops warnings', () => {
    const stderr = [
      'Warning: spec.template.spec.containers[0].resources: something deprecated',
      'Error from server (Invalid): StatefulSet.apps "robustmq" is invalid: spec.replicas: Invalid value: -1',
      '',
      'Error from server (Forbidden): services "robustmq" is forbidden: User "limited-user" cannot patch resource "services"',
    ].join('\n');
    expect(stderrErrors(stderr)).toEqual([
      'Error from server (Invalid): StatefulSet.apps "robustmq" is invalid: spec.replicas: Invalid value: -1',
      'Error from server (Forbidden): services "robustmq" is forbidden: User "limited-user" cannot patch resource "services"',
    ]);
  });
});
