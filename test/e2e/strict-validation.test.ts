// Scenario 11: every preset's rendered manifests pass a server-side dry-run with strict field validation
// (fieldValidation=Strict through kubectl --validate=strict; helm's own --dry-run=server submits nothing), both as
// `render` output checked with kubectl and through the CLI's own preflight.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliExpect, dropNamespace, kubectl, kubectlTry, workdir } from './cli.ts';

const ns = 'e2e-strict';
beforeAll(() => kubectl(['create', 'namespace', ns]));
afterAll(() => dropNamespace(ns));

describe.each(['dev', 'test', 'prod'])('strict server-side validation: preset %s', (preset) => {
  it('kubectl accepts every rendered object with --dry-run=server --validate=strict', async () => {
    const out = workdir(`strict-${preset}`);
    await cliExpect(0, ['render', '--preset', preset, '--out-dir', out, '-n', ns, '--release', `strict-${preset}`]);
    const manifests = readFileSync(join(out, 'manifests.yaml'), 'utf8');
    const kinds = (manifests.match(/^kind: \S+/gm) ?? []).length;
    expect(kinds).toBeGreaterThan(5);
    const r = await kubectlTry(['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager=e2e', '-n', ns, '-f', '-'], manifests);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(kinds);
    expect(r.stdout).toMatch(/statefulset\.apps\/\S+ serverside-applied \(server dry run\)/);
  });

  it('the CLI preflight runs the same strict dry-run and passes', async () => {
    const r = await cliExpect(0, ['preflight', '--preset', preset, '-o', 'json', '-n', ns, '--release', `strict-${preset}`]);
    const checks = JSON.parse(r.stdout).checks as { id: string; status: string; message: string }[];
    const dry = checks.find((c) => c.id === 'server-dry-run');
    expect(dry?.status).toBe('pass');
    expect(dry?.message).toMatch(/objects accepted by the API server/);
  });
});

describe('strict validation catches an unknown field', () => {
  it('fails preflight with exit 3, naming the field', async () => {
    const r = await cliExpect(3, ['preflight', '--preset', 'dev', '-n', ns, '--release', 'strict-bad', '--set', 'podSecurityContext.notAField=1']);
    expect(r.stderr).toMatch(/FAIL server-dry-run/);
    expect(r.stderr).toMatch(/unknown field "(spec\.template\.spec\.securityContext\.)?notAField"/);
  });
});
