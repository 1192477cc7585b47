// Scenario 12: a wrong context, an unreachable API and a user without the permissions each stop the install with
// exit 3 and a clear message, before anything is created. The exec-plugin user proves that kubectl-based access
// works with every auth method a kubeconfig can hold.
import { describe, expect, it } from 'vitest';
import { CONTEXTS, LIMITED_NAMESPACE } from '../support/controlplane.ts';
import { cliExpect, kubectlTry, workdir } from './cli.ts';

describe('preflight failures exit 3', () => {
  const cwd = workdir('preflight');

  it('a context that does not exist', async () => {
    const r = await cliExpect(3, ['--preset', 'dev', '--yes', '--skip-smoke', '--kube-context', 'no-such-context', '-n', 'e2e-pf-nope'], { cwd });
    expect(r.stderr).toMatch(/FAIL api-reachable: cannot reach the Kubernetes API of context no-such-context: .*no-such-context/);
    expect(r.stderr).toMatch(/hint: check --kube-context against `kubectl config get-contexts`/);
    expect(r.stderr).not.toMatch(/wrote /);
  });

  it('an API server that does not answer', async () => {
    const r = await cliExpect(3, ['--preset', 'dev', '--yes', '--skip-smoke', '--kube-context', CONTEXTS.unreachable, '-n', 'e2e-pf-down'], { cwd });
    expect(r.stderr).toMatch(/FAIL api-reachable: cannot reach the Kubernetes API of context unreachable \(https:\/\/127\.0\.0\.1:\d+\): .*(refused|connect)/);
    expect(r.stderr).not.toMatch(/wrote /);
  });

  it('a user the SelfSubjectAccessReviews deny, naming what is missing', async () => {
    const r = await cliExpect(3, ['--preset', 'dev', '--yes', '--skip-smoke', '--kube-context', CONTEXTS.limited, '-n', LIMITED_NAMESPACE], { cwd });
    expect(r.stderr).toMatch(/FAIL rbac: \d+ of \d+ permissions the install needs are denied/);
    expect(r.stderr).toMatch(/statefulsets\.apps in limited: create, get, patch, delete.* denied \(the chart creates StatefulSet/);
    expect(r.stderr).toMatch(/Error: preflight failed: rbac:/);
    expect(r.stderr).not.toMatch(/wrote /);
    const sts = await kubectlTry(['get', 'statefulsets', '-n', LIMITED_NAMESPACE, '-o', 'name']);
    expect(sts.stdout.trim()).toBe('');
  });

  it('the preflight command reports the same as JSON', async () => {
    const r = await cliExpect(3, ['preflight', '--preset', 'dev', '-o', 'json', '--kube-context', CONTEXTS.limited, '-n', LIMITED_NAMESPACE], { cwd });
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: false, exitCode: 3, context: CONTEXTS.limited });
    expect(out.checks.find((c: any) => c.id === 'rbac')).toMatchObject({ status: 'fail', severity: 'error' });
  });

  it('the exec-plugin user passes preflight (kubectl runs the plugin, the CLI never touches credentials)', async () => {
    const r = await cliExpect(0, ['preflight', '--preset', 'dev', '--kube-context', CONTEXTS.exec, '-n', 'e2e-pf-exec'], { cwd });
    expect(r.stderr).toMatch(/ok {3}rbac: all \d+ permissions allowed/);
    expect(r.stderr).toMatch(/preflight passed/);
  });
});
