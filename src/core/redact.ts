// Redaction BY VALUE: RobustMQ logs its configuration (passwords and the JWT secret included) at startup, so key-based
// masking of YAML is not enough. Every text that leaves the cluster for the debug bundle goes through a redactor
// built from the actual Secret values: each value is replaced wherever it appears, in the encodings it may appear in
// (plain, base64 as in `kubectl get secret -o yaml`, JSON-escaped, URL-encoded). Bearer tokens and JWTs are masked
// by shape as well, since they are derived from the secrets but are not equal to them.

export type Redactor = (text: string) => string;

/** Values shorter than this are not replaced (replacing every "ab" would destroy the text); `weakValues` reports them. */
export const MIN_REDACT_LENGTH = 4;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function variants(value: string): string[] {
  const out = new Set<string>([value]);
  const b64 = Buffer.from(value, 'utf8').toString('base64');
  out.add(b64);
  out.add(b64.replace(/=+$/, ''));
  out.add(Buffer.from(`${value}\n`, 'utf8').toString('base64'));
  out.add(JSON.stringify(value).slice(1, -1));
  out.add(encodeURIComponent(value));
  return [...out].filter((v) => v.length >= MIN_REDACT_LENGTH);
}

export function weakValues(secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, v]) => v.length > 0 && v.length < MIN_REDACT_LENGTH)
    .map(([k]) => k);
}

const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b/g;
const BEARER = /(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi;

/** A redactor for these named secret values (e.g. the credentials Secret's decoded data). */
export function makeRedactor(secrets: Record<string, string>): Redactor {
  const pairs: [string, string][] = [];
  for (const [key, value] of Object.entries(secrets)) {
    for (const v of variants(value)) pairs.push([v, key]);
  }
  // Longest first, so a value containing another is replaced whole.
  pairs.sort((a, b) => b[0].length - a[0].length);
  const re = pairs.length ? new RegExp(pairs.map(([v]) => escapeRegExp(v)).join('|'), 'g') : undefined;
  const keyOf = new Map(pairs);
  return (text: string) => {
    let t = re ? text.replace(re, (m) => `<redacted:${keyOf.get(m) ?? 'secret'}>`) : text;
    t = t.replace(BEARER, '$1<redacted:token>').replace(JWT, '<redacted:jwt>');
    return t;
  };
}

/** Decodes a Secret's `data` (base64) into strings. */
export function decodeSecretData(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}
