import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeHelmRelease } from '../../src/shell/facts.js';

// helm stores a release as base64(gzip(JSON)) in Secret data key "release"; kubectl shows Secret data base64 again.
function asKubectlShowsIt(record: unknown): string {
  const helmEncoded = gzipSync(Buffer.from(JSON.stringify(record))).toString('base64');
  return Buffer.from(helmEncoded).toString('base64');
}

describe('helm release record', () => {
  it('decodes status, chart version and helm 4 apply method', () => {
    const rec = { name: 'robustmq', version: 3, info: { status: 'deployed' }, chart: { metadata: { version: '0.1.0', appVersion: '0.4.11' } }, apply_method: 'ssa' };
    expect(decodeHelmRelease(asKubectlShowsIt(rec))).toEqual(rec);
  });
  it('returns undefined for absent or corrupt data', () => {
    expect(decodeHelmRelease(undefined)).toBeUndefined();
    expect(decodeHelmRelease(Buffer.from('not gzip, not json').toString('base64'))).toBeUndefined();
  });
});
