// Generated parts of the chart must match their sources: README parameter tables (readme-generator over values.yaml)
// and the files scripts/chart-gen.mjs derives from the v0.4.11 config fixture. Plus Chart.yaml metadata.
import { copyFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CHART, ROOT, tempDir } from './lib.ts';
import { KUBE_RANGE } from '../../src/core/preflight.ts';
// @ts-expect-error plain ESM script without types
import { configSchema, renderDefaultsYaml, loadFixture, DEFAULTS_FILE, SCHEMA_FILE } from '../../scripts/chart-gen.mjs';

describe('generated documentation and files', () => {
  it('README parameter tables match values.yaml (readme-generator)', () => {
    const dir = tempDir('rmq-readme-');
    const readme = join(dir, 'README.md');
    copyFileSync(join(CHART, 'README.md'), readme);
    execFileSync(join(ROOT, 'node_modules/.bin/readme-generator'), ['-v', join(CHART, 'values.yaml'), '-r', readme, '-c', join(CHART, 'readme-generator.json')], { stdio: 'pipe' });
    expect(readFileSync(readme, 'utf8')).toBe(readFileSync(join(CHART, 'README.md'), 'utf8'));
    expect(readFileSync(readme, 'utf8')).toContain('| `combined.metaReplicas`');
  });

  it('server-defaults.yaml and the config schema match the config fixture (scripts/chart-gen.mjs)', () => {
    const fixture = loadFixture();
    expect(readFileSync(DEFAULTS_FILE, 'utf8')).toBe(renderDefaultsYaml(fixture));
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
    expect(schema.properties.config).toEqual(configSchema(fixture));
    expect(fixture.source.tag).toBe('v0.4.11');
    expect(fixture.source.commit).toMatch(/^4ec73c006/);
  });

  it('Chart.yaml carries the versions and Artifact Hub metadata', () => {
    const chart = parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
    expect(chart.apiVersion).toBe('v2');
    expect(chart.appVersion).toBe('0.4.11');
    expect(chart.kubeVersion).toBe('>=1.32.0-0');
    // the CLI's preflight refuses below the same floor
    expect(chart.kubeVersion).toBe(`>=${KUBE_RANGE.min.major}.${KUBE_RANGE.min.minor}.0-0`);
    expect(chart.annotations['artifacthub.io/license']).toBe('Apache-2.0');
    expect(parseYaml(chart.annotations['artifacthub.io/images'])).toEqual([{ name: 'robustmq', image: 'ghcr.io/robustmq/robustmq:v0.4.11' }]);
    const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    expect(`${values.image.registry}/${values.image.repository}:${values.image.tag}`).toBe('ghcr.io/robustmq/robustmq:v0.4.11');
  });
});
