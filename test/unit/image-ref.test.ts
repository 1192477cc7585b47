// Image references against the OCI distribution grammar (src/core/image-ref.ts): every production, accepted and
// refused, and the chart-shaped check that names the offending value key.
import { describe, expect, it } from 'vitest';
import { checkDigest, checkDomain, checkPath, checkRegistry, checkTag, imageProblems, looksLikeDomain } from '../../src/core/image-ref.js';

const HEX64 = 'a'.repeat(64);

describe('domain (host[:port])', () => {
  it.each(['ghcr.io', 'docker.io', 'localhost', 'localhost:5000', 'registry-1.docker.io', 'Registry.Example.COM', '10.0.0.1:5000', '[::1]', '[::1]:5000', '[fe80::1%eth0]:443', 'a', 'a.b.c.d.e', 'x1-2y.io'])('%s is a domain', (d) => {
    expect(checkDomain(d)).toBeUndefined();
  });
  it.each([
    ['', 'the registry host is empty'],
    ['-bad.io', '"-bad" in host "-bad.io" is not a host name part'],
    ['bad-.io', '"bad-" in host "bad-.io" is not a host name part'],
    ['a..b', '"" in host "a..b" is not a host name part'],
    ['under_score.io', '"under_score" in host "under_score.io"'],
    ['host.io:', 'port "" is not a number'],
    ['host.io:50a', 'port "50a" is not a number'],
    [':5000', 'has no host before the port'],
    ['[::1', 'is not a bracketed IPv6 address'],
    ['[::1]x', 'is not host[:port]'],
    ['[zz::1]', 'is not a bracketed IPv6 address'],
    ['[::1]:', 'port "" is not a number'],
  ])('%j is refused: %s', (d, why) => {
    expect(checkDomain(d)).toContain(why);
  });
});

describe('repository path', () => {
  it.each(['robustmq', 'robustmq/robustmq', 'a/b/c/d', 'a.b', 'a_b', 'a__b', 'a-b', 'a---b', 'a1/2b', 'library/ubuntu', '0'])('%s is a path', (p) => {
    expect(checkPath(p)).toBeUndefined();
  });
  it.each([
    ['', 'the repository is empty'],
    ['RobustMQ/robustmq', '"RobustMQ" is not a valid path component'],
    ['a//b', 'has an empty path component'],
    ['/a', 'has an empty path component'],
    ['a/', 'has an empty path component'],
    ['a..b', '"a..b" is not a valid path component'],
    ['a___b', '"a___b" is not a valid path component'],
    ['a._b', '"a._b" is not a valid path component'],
    ['-a', '"-a" is not a valid path component'],
    ['a-', '"a-" is not a valid path component'],
    ['.a', '".a" is not a valid path component'],
    ['a b', '"a b" is not a valid path component'],
    ['a:b', '"a:b" is not a valid path component'],
    ['a@b', '"a@b" is not a valid path component'],
  ])('%j is refused: %s', (p, why) => {
    expect(checkPath(p)).toContain(why);
  });
});

describe('registry (host[:port][/path], as --registry and global.imageRegistry hold it)', () => {
  it.each(['ghcr.io', 'registry.cn.example.com/mirror', 'localhost:5000', 'localhost', 'mirror.local:8443/a/b', '[::1]:5000/x', 'Upper'])('%s is a registry', (r) => {
    expect(checkRegistry(r)).toBeUndefined();
  });
  it.each([
    ['myregistry', '"myregistry" is not a registry host (no dot, no port, not localhost): runtimes would pull docker.io/myregistry/…'],
    ['myregistry/mirror', 'runtimes would pull docker.io/myregistry/…'],
    ['https://ghcr.io', '"https://ghcr.io" is a URL: give the host (and path) only, without https://'],
    ['ghcr.io/', 'has an empty path component'],
    ['ghcr.io/Mirror', '"Mirror" is not a valid path component'],
    ['ghcr.io:abc', 'port "abc" is not a number'],
  ])('%j is refused: %s', (r, why) => {
    expect(checkRegistry(r)).toContain(why);
  });
  it('a first component is a host when it has a dot, a port, is localhost or has an uppercase letter', () => {
    expect([looksLikeDomain('a.b'), looksLikeDomain('a:1'), looksLikeDomain('localhost'), looksLikeDomain('Abc'), looksLikeDomain('[::1]')]).toEqual([true, true, true, true, true]);
    expect([looksLikeDomain('library'), looksLikeDomain('robustmq')]).toEqual([false, false]);
  });
});

describe('tag', () => {
  it.each(['v0.4.11', 'latest', '1', '_x', 'A-b.c_d', 'x'.repeat(128)])('%s is a tag', (t) => {
    expect(checkTag(t)).toBeUndefined();
  });
  it.each([
    ['', 'the tag is empty'],
    ['.v1', 'is not a valid tag'],
    ['-v1', 'is not a valid tag'],
    ['v1+build', 'is not a valid tag'],
    ['v1 ', 'is not a valid tag'],
    ['v1:2', 'is not a valid tag'],
    ['é', 'is not a valid tag'],
    ['x'.repeat(129), 'the tag is 129 characters, over 128'],
  ])('%j is refused: %s', (t, why) => {
    expect(checkTag(t)).toContain(why);
  });
});

describe('digest', () => {
  it.each([`sha256:${HEX64}`, `sha512:${'0'.repeat(128)}`, `multihash+base58:${'A'.repeat(32)}`, `sha256+b64u:${'F'.repeat(32)}`, `blake3:${'b'.repeat(64)}`])('%s is a digest', (d) => {
    expect(checkDigest(d)).toBeUndefined();
  });
  it.each([
    ['latest', 'is not a digest'],
    ['sha256', 'is not a digest'],
    [`sha256:${'a'.repeat(31)}`, 'is not a digest'],
    [`sha256:${'g'.repeat(64)}`, 'is not a digest'],
    [`1sha:${HEX64}`, 'is not a digest'],
    [`sha256:${'a'.repeat(63)}`, 'sha256 needs 64 lowercase hex digits'],
    [`sha256:${'A'.repeat(64)}`, 'sha256 needs 64 lowercase hex digits'],
    [`sha512:${HEX64}`, 'sha512 needs 128 lowercase hex digits'],
    [`@sha256:${HEX64}`, 'is not a digest'],
  ])('%j is refused: %s', (d, why) => {
    expect(checkDigest(d)).toContain(why);
  });
});

describe('imageProblems: the chart image, part by part, the key named', () => {
  const chart = { image: { registry: 'ghcr.io', repository: 'robustmq/robustmq', tag: 'v0.4.11', digest: '' }, global: { imageRegistry: '' } };
  const withImage = (image: Record<string, unknown>, global: Record<string, unknown> = {}) => ({ image: { ...chart.image, ...image }, global: { ...chart.global, ...global } });

  it('the chart defaults, a mirror, a digest, a number tag, a registry-less repository with its own host: no problem', () => {
    expect(imageProblems(chart)).toEqual([]);
    expect(imageProblems(withImage({}, { imageRegistry: 'registry.cn.example.com/mirror' }))).toEqual([]);
    expect(imageProblems(withImage({ digest: `sha256:${HEX64}`, tag: 'not used: the digest wins!' }))).toEqual([]);
    expect(imageProblems(withImage({ tag: 1.5 }))).toEqual([]);
    expect(imageProblems(withImage({ registry: '', repository: 'localhost:5000/robustmq' }))).toEqual([]);
    expect(imageProblems(withImage({ registry: '', repository: 'robustmq/robustmq' }))).toEqual([]);
  });
  it('keys that are absent are not judged (a chart whose defaults the CLI did not read)', () => {
    expect(imageProblems({})).toEqual([]);
    expect(imageProblems({ image: { tag: 'v1' } })).toEqual([]);
  });
  it.each([
    [withImage({ tag: 'v0.4.11!' }), 'image.tag', 'image.tag "v0.4.11!": "v0.4.11!" is not a valid tag (letters, digits, _ . -, not starting with . or -)', 'e.g. --set image.tag=v0.4.11'],
    [withImage({ tag: '' }), 'image.tag', 'image.tag "": the tag is empty', 'e.g. --set image.tag=v0.4.11'],
    [withImage({ repository: 'RobustMQ/robustmq' }), 'image.repository', 'image.repository "RobustMQ/robustmq": "RobustMQ" is not a valid path component (lowercase letters and digits, separated by one . or _, two __, or dashes)', 'e.g. --set image.repository=robustmq/robustmq'],
    [withImage({ registry: 'ghcr.io/' }), 'image.registry', 'image.registry "ghcr.io/": "ghcr.io/" has an empty path component (a leading, trailing or double /)', 'host[:port], e.g. --set image.registry=ghcr.io'],
    [withImage({}, { imageRegistry: 'mirror' }), 'global.imageRegistry', 'global.imageRegistry "mirror": "mirror" is not a registry host (no dot, no port, not localhost): runtimes would pull docker.io/mirror/…', 'host[:port][/path], e.g. --registry registry.example.com/mirror'],
    [withImage({ digest: 'sha256:abc' }), 'image.digest', 'image.digest "sha256:abc": "sha256:abc" is not a digest (algorithm:hex, e.g. sha256: and 64 hex digits)', 'e.g. --set image.digest=sha256:<64 lowercase hex digits>, or leave it empty to use image.tag'],
    [withImage({ registry: '', repository: 'bad_.io/x' }), 'image.repository', 'image.repository "bad_.io/x": "bad_" in host "bad_.io" is not a host name part (letters, digits and inner dashes)', 'e.g. --set image.repository=robustmq/robustmq'],
    [withImage({ repository: 'a'.repeat(250) }), 'image.repository', `image.repository "${'a'.repeat(250)}": the image name with image.registry is 258 characters, over 255`, 'shorten the repository or the registry path'],
  ])('%j → %s', (values, key, message, hint) => {
    expect(imageProblems(values)).toEqual([{ key, message, hint }]);
  });
  it('global.imageRegistry wins over image.registry, as in the chart template: a bad image.registry under a good mirror is not used', () => {
    expect(imageProblems(withImage({ registry: 'not a host' }, { imageRegistry: 'mirror.example.com' }))).toEqual([]);
  });
  it('every bad part is named, not only the first', () => {
    expect(imageProblems(withImage({ repository: 'A', tag: '-x' }, { imageRegistry: 'x y' })).map((p) => p.key)).toEqual(['global.imageRegistry', 'image.repository', 'image.tag']);
  });
});
