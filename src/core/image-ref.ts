// Image references against the OCI distribution grammar (github.com/distribution/reference, reference.go), so a typo
// in a registry, repository, tag or digest is refused before helm runs instead of surfacing as ErrImagePull minutes
// later. Pure: the chart's values in, the offending part named out.
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain '/'] remote-name            (at most 255 characters)
//   domain           := host [':' port-number]
//   host             := domain-name | IPv4address | '[' IPv6address ']'
//   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//   path-component   := alpha-numeric [separator alpha-numeric]*      alpha-numeric := /[a-z0-9]+/
//   separator        := /[_.]|__|[-]+/
//   tag              := /[\w][\w.-]{0,127}/
//   digest           := algorithm ":" hex; algorithm := /[A-Za-z][A-Za-z0-9]*([+.-_][A-Za-z][A-Za-z0-9]*)*/, hex := /[0-9a-fA-F]{32,}/
import { getPath, type Values } from './values.js';

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6 = /^\[[0-9a-fA-F:.]+(?:%[\w.-]+)?\]$/;
const PORT = /^[0-9]+$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
/** The OCI image spec's registered algorithms: lowercase hex of a fixed length. */
const REGISTERED_DIGESTS: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };
export const NAME_TOTAL_LENGTH_MAX = 255;

const PATH_RULE = 'lowercase letters and digits, separated by one . or _, two __, or dashes';

/** A problem with one part, or undefined. */
export type Verdict = string | undefined;

/** `host[:port]`: the first component of a registry. */
export function checkDomain(domain: string): Verdict {
  if (domain === '') return 'the registry host is empty';
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const end = domain.indexOf(']');
    host = end < 0 ? domain : domain.slice(0, end + 1);
    const rest = end < 0 ? '' : domain.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return `${JSON.stringify(domain)} is not host[:port]`;
    if (rest) port = rest.slice(1);
    if (!IPV6.test(host)) return `${JSON.stringify(host)} is not a bracketed IPv6 address`;
  } else {
    const colon = domain.indexOf(':');
    if (colon >= 0) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (host === '') return `${JSON.stringify(domain)} has no host before the port`;
    for (const c of host.split('.')) {
      if (!DOMAIN_COMPONENT.test(c)) return `${JSON.stringify(c)} in host ${JSON.stringify(host)} is not a host name part (letters, digits and inner dashes)`;
    }
  }
  if (port !== undefined && !PORT.test(port)) return `port ${JSON.stringify(port)} is not a number`;
  return undefined;
}

/** A repository path (`a/b/c`): every component per PATH_COMPONENT. */
export function checkPath(path: string): Verdict {
  if (path === '') return 'the repository is empty';
  for (const c of path.split('/')) {
    if (c === '') return `${JSON.stringify(path)} has an empty path component (a leading, trailing or double /)`;
    if (!PATH_COMPONENT.test(c)) return `${JSON.stringify(c)} is not a valid path component (${PATH_RULE})`;
  }
  return undefined;
}

/**
 * The first part of a name is a registry host only when it looks like one (a dot, a port, or localhost, or an
 * uppercase letter): otherwise container runtimes read it as a Docker Hub path (docker.io/<it>/…).
 */
export function looksLikeDomain(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase() || first.startsWith('[');
}

/** A registry as `global.imageRegistry`/`image.registry`/`--registry` hold it: `host[:port][/path]`. */
export function checkRegistry(registry: string): Verdict {
  if (registry.includes('://')) return `${JSON.stringify(registry)} is a URL: give the host (and path) only, without ${registry.slice(0, registry.indexOf('://') + 3)}`;
  const [first = '', ...rest] = registry.split('/');
  const d = checkDomain(first);
  if (d) return d;
  if (!looksLikeDomain(first)) {
    return `${JSON.stringify(first)} is not a registry host (no dot, no port, not localhost): runtimes would pull docker.io/${first}/…`;
  }
  if (rest.includes('')) return `${JSON.stringify(registry)} has an empty path component (a leading, trailing or double /)`;
  if (rest.length) return checkPath(rest.join('/'));
  return undefined;
}

export function checkTag(tag: string): Verdict {
  if (tag === '') return 'the tag is empty';
  if (tag.length > 128) return `the tag is ${tag.length} characters, over 128`;
  if (!TAG.test(tag)) return `${JSON.stringify(tag)} is not a valid tag (letters, digits, _ . -, not starting with . or -)`;
  return undefined;
}

export function checkDigest(digest: string): Verdict {
  if (!DIGEST.test(digest)) return `${JSON.stringify(digest)} is not a digest (algorithm:hex, e.g. sha256: and 64 hex digits)`;
  const [alg, hex] = digest.split(':') as [string, string];
  const registered = REGISTERED_DIGESTS[alg];
  if (registered && !registered.test(hex)) return `${JSON.stringify(digest)}: ${alg} needs ${alg === 'sha256' ? 64 : 128} lowercase hex digits`;
  return undefined;
}

export interface ImageProblem {
  /** the value key that holds the offending part, e.g. "image.tag" */
  key: string;
  message: string;
  hint: string;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'object' ? undefined : String(v));

/**
 * The chart's image (robustmq.image in _helpers.tpl: `[registry/]repository(:tag|@digest)`, global.imageRegistry
 * winning over image.registry, the digest over the tag), checked part by part and then as a whole name.
 * `values`: chart defaults merged with the overlay (what helm will render).
 */
export function imageProblems(values: Values): ImageProblem[] {
  const out: ImageProblem[] = [];
  // a key that is absent is not judged: a chart from a repository or registry has defaults the CLI does not read
  const globalRegistry = str(getPath(values, 'global.imageRegistry')) ?? '';
  const registryKey = globalRegistry ? 'global.imageRegistry' : 'image.registry';
  const registry = globalRegistry || (str(getPath(values, 'image.registry')) ?? '');
  const repository = str(getPath(values, 'image.repository'));
  const tag = str(getPath(values, 'image.tag'));
  const digest = str(getPath(values, 'image.digest')) ?? '';
  const add = (key: string, value: string, why: string, hint: string) => out.push({ key, message: `${key} ${JSON.stringify(value)}: ${why}`, hint });

  if (registry) {
    const r = checkRegistry(registry);
    if (r) add(registryKey, registry, r, registryKey === 'global.imageRegistry' ? 'host[:port][/path], e.g. --registry registry.example.com/mirror' : 'host[:port], e.g. --set image.registry=ghcr.io');
  }
  if (repository !== undefined) {
    // without a registry the repository is the whole name and may start with its own host
    const [first = '', ...rest] = repository.split('/');
    const v = !registry && rest.length && looksLikeDomain(first) ? (checkDomain(first) ?? checkPath(rest.join('/'))) : checkPath(repository);
    if (v) add('image.repository', repository, v, 'e.g. --set image.repository=robustmq/robustmq');
  }
  if (digest) {
    const d = checkDigest(digest);
    if (d) add('image.digest', digest, d, 'e.g. --set image.digest=sha256:<64 lowercase hex digits>, or leave it empty to use image.tag');
  } else if (tag !== undefined) {
    const t = checkTag(tag);
    if (t) add('image.tag', tag, t, 'e.g. --set image.tag=v0.4.11');
  }
  const name = registry ? `${registry}/${repository ?? ''}` : (repository ?? '');
  if (out.length === 0 && name.length > NAME_TOTAL_LENGTH_MAX) {
    add('image.repository', repository ?? '', `the image name ${registry ? `with ${registryKey} ` : ''}is ${name.length} characters, over ${NAME_TOTAL_LENGTH_MAX}`, 'shorten the repository or the registry path');
  }
  return out;
}
