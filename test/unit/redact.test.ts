import { describe, expect, it } from 'vitest';
import { decodeSecretData, makeRedactor, weakValues } from '../../src/core/redact.js';

const secrets = { 'admin-password': 'Zq8v2LmN4pQr7sTu', 'admin-jwt-secret': 'k3J9xW2vB8nM5cR1tY6uP0oA', 'mqtt-password': 'mqTT-pw/with+chars=' };

describe('redact by value', () => {
  const r = makeRedactor(secrets);

  it('replaces values in a RobustMQ startup log line (the server logs its config)', () => {
    const log = `2026-11-26T10:00:01 INFO config loaded: [admin] username="admin" password="Zq8v2LmN4pQr7sTu" jwt_secret="k3J9xW2vB8nM5cR1tY6uP0oA"`;
    const out = r(log);
    expect(out).not.toContain('Zq8v2LmN4pQr7sTu');
    expect(out).not.toContain('k3J9xW2vB8nM5cR1tY6uP0oA');
    expect(out).toContain('password="<redacted:admin-password>"');
    expect(out).toContain('jwt_secret="<redacted:admin-jwt-secret>"');
  });

  it('replaces the base64 form, as kubectl shows Secret data', () => {
    const b64 = Buffer.from('mqTT-pw/with+chars=').toString('base64');
    expect(r(`data:\n  mqtt-password: ${b64}\n`)).toBe('data:\n  mqtt-password: <redacted:mqtt-password>\n');
  });

  it('replaces JSON-escaped and URL-encoded forms', () => {
    const special = makeRedactor({ p: 'a"b\\c d' });
    expect(special(JSON.stringify({ password: 'a"b\\c d' }))).toBe('{"password":"<redacted:p>"}');
    expect(special('https://x/?pw=a%22b%5Cc%20d')).toBe('https://x/?pw=<redacted:p>');
    const plus = makeRedactor(secrets);
    expect(plus('u=mqTT-pw%2Fwith%2Bchars%3D')).toBe('u=<redacted:mqtt-password>');
  });

  it('masks bearer tokens and JWTs by shape', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXZhbHVl';
    expect(r(`Authorization: Bearer ${jwt}`)).toBe('Authorization: Bearer <redacted:token>');
    expect(r(`{"token":"${jwt}","expires_in":3600}`)).toBe('{"token":"<redacted:jwt>","expires_in":3600}');
  });

  it('leaves text without secrets unchanged', () => {
    const text = 'robustmq-0 1/1 Running 0 5m\nEvents: none';
    expect(r(text)).toBe(text);
  });

  it('replaces every occurrence, longest value first', () => {
    const nested = makeRedactor({ short: 'abcd', long: 'abcdefgh' });
    expect(nested('abcdefgh abcd abcdefgh')).toBe('<redacted:long> <redacted:short> <redacted:long>');
  });

  it('reports values too short to redact safely', () => {
    expect(weakValues({ a: 'xy', b: 'long-enough', c: '' })).toEqual(['a']);
  });

  it('decodes Secret data', () => {
    expect(decodeSecretData({ k: Buffer.from('v4lue').toString('base64') })).toEqual({ k: 'v4lue' });
    expect(decodeSecretData(undefined)).toEqual({});
  });
});
