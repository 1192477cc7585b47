// `helm package` gives a tgz that renders exactly like the chart folder, on both helm majors.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CHART, HELMS, helmRun, PRESETS, renderText, tempDir } from './lib.ts';

// no random material: bring the Secrets, so two renders are byte-identical
const FIXED = { auth: { existingSecret: 'creds' }, tls: { source: 'existingSecret', existingSecret: 'tls' } };

describe.each(HELMS)('helm $major', (helm) => {
  it('packages a tgz that renders the same as the folder', () => {
    const dir = tempDir('rmq-pkg-');
    const r = helmRun(helm, ['package', CHART, '--destination', dir]);
    expect(r.code, r.stderr).toBe(0);
    const tgz = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    expect(tgz).toEqual(['robustmq-0.1.0.tgz']);
    const pkg = join(dir, tgz[0]!);
    const listing = execFileSync('tar', ['-tzf', pkg], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listing).toContain('robustmq/values.schema.json');
    expect(listing).toContain('robustmq/files/server-defaults.yaml');
    expect(listing).toContain('robustmq/files/scripts/init-config.sh');
    expect(listing.filter((f) => /readme-generator|\.tgz$/.test(f))).toEqual([]);
    for (const files of [[], ...PRESETS.map((p) => [p])]) {
      const opts = { files, values: [FIXED] };
      expect(renderText(helm, { ...opts, chart: pkg })).toBe(renderText(helm, opts));
    }
  });
});
