// The user's files. Reading: one checked read for every file the CLI reads (presets, -f values, --ca-file, an
// existing overlay), so a device, a FIFO, a directory, a huge or a binary file is refused with one line instead of a
// hang or a stack. Writing: never silently over an existing one (ask, or --yes; the old one is kept as .bak).
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, copyFileSync, createReadStream, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Context } from '../context.js';
import { ExitCode, UserError, usageError } from '../core/errors.js';

/**
 * Far above any real values file or CA bundle (the chart's own commented values.yaml is ~40 KiB, a system CA bundle
 * ~200 KiB); Kubernetes caps the Secret that helm keeps a release in (chart, values, manifests) at 1 MiB as well.
 */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** What a path is when it is not a regular file, in the words of the error; undefined for a regular file. */
export function notRegularFile(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'is a directory';
  if (st.isFIFO()) return 'is a named pipe (FIFO), not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'is a device, not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  return 'is not a regular file';
}

function limitText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

const TOO_LARGE_HINT = 'pass the file itself, not an archive or a log: values files and CA bundles are far smaller';

export interface InputFile {
  /** how the messages name it, e.g. "values file", "--ca-file" */
  what: string;
  /** the path as the user typed it (messages); defaults to the path read */
  shown?: string;
  /** the hint for a path that is missing or not a regular file */
  hint?: string;
  maxBytes?: number;
}

/**
 * Read a file the user named as UTF-8 text. Refused with a usage error (exit 2): missing, unreadable, not a regular
 * file, over `maxBytes`, not UTF-8. Opened non-blocking and judged by fstat of the opened descriptor, so a FIFO never
 * blocks the open, a device is never read, and a path swapped after a check cannot slip through.
 */
export function readInputFile(path: string, o: InputFile): string {
  const shown = o.shown ?? path;
  const max = o.maxBytes ?? MAX_INPUT_BYTES;
  const hint = o.hint ?? 'check the path';
  const fail = (why: string, h = hint) => usageError(`${o.what} ${shown}: ${why}`, h);
  let fd: number;
  try {
    // O_NONBLOCK is POSIX only; where it is missing (Windows) there are no FIFOs to block on in the first place
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw fail(openFailure(path, e as NodeJS.ErrnoException));
  }
  try {
    const st = fstatSync(fd);
    const odd = notRegularFile(st);
    if (odd) throw fail(odd);
    if (st.size > max) throw fail(`is ${st.size} bytes, over the ${limitText(max)} limit`, TOO_LARGE_HINT);
    // read to the end but never past max+1 bytes: a file that grows while it is read is still bounded
    let buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let n = 0;
    try {
      for (;;) {
        if (n === buf.length) {
          if (n > max) break;
          const bigger = Buffer.alloc(Math.min(buf.length * 2, max + 1));
          buf.copy(bigger, 0, 0, n);
          buf = bigger;
        }
        const got = readSync(fd, buf, n, buf.length - n, null);
        if (got === 0) break;
        n += got;
      }
    } catch (e) {
      throw fail(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (n > max) throw fail(`is over the ${limitText(max)} limit`, TOO_LARGE_HINT);
    return decodeUtf8(buf.subarray(0, n), fail);
  } finally {
    closeSync(fd);
  }
}

function openFailure(path: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'ENOTDIR':
      return 'no such file (a part of the path is not a directory)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENXIO': {
      // a socket (or a FIFO on some systems) cannot be opened for reading
      try {
        return notRegularFile(statSync(path)) ?? 'cannot be opened';
      } catch {
        return 'cannot be opened';
      }
    }
    default:
      return `cannot be read (${e.code ?? e.message})`;
  }
}

function decodeUtf8(bytes: Buffer, fail: (why: string, hint?: string) => UserError): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw fail('is UTF-16 text, not UTF-8', 'save it as UTF-8 (helm reads UTF-8 only)');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw fail(`is not UTF-8 text (invalid byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at offset ${at})`, 'save it as UTF-8 text; a binary file (an archive, a certificate in DER) cannot be used here');
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > b.length) return i;
    try {
      dec.decode(b.subarray(i, i + len));
    } catch {
      return i;
    }
    i += len;
  }
  return 0;
}

/** An existing path the CLI would read or replace must be a regular file (see readInputFile for why). */
function assertRegularIfExists(path: string, abs: string, what: string): boolean {
  let st: Stats;
  try {
    st = statSync(abs);
  } catch {
    return false;
  }
  const odd = notRegularFile(st);
  if (odd === 'is a directory') throw usageError(`${what} ${path} is a directory`, 'give a file path');
  if (odd) throw usageError(`${what} ${path} ${odd}`, 'give the path of a regular file (it is written, and the previous one kept as .bak)');
  return true;
}

/** Fail early (before any cluster work) when a file exists and nobody can be asked about replacing it. */
export function assertReplaceable(ctx: Context, path: string, what: string): void {
  const abs = isAbsolute(path) ? path : resolve(ctx.cwd, path);
  if (assertRegularIfExists(path, abs, what) && !ctx.options.yes && !ctx.term.interactive) {
    throw usageError(`${what} ${path} already exists`, 'pass --yes to replace it (the old file is kept as .bak), or choose another path');
  }
}

/**
 * Write a file, never silently over an existing one: with an existing file, ask (TTY) or require --yes; the old
 * content is kept as FILE.bak. Returns the .bak path when one was made.
 */
export async function writeSafely(ctx: Context, path: string, content: string, what: string): Promise<string | undefined> {
  const abs = isAbsolute(path) ? path : resolve(ctx.cwd, path);
  const exists = assertRegularIfExists(path, abs, what);
  try {
    mkdirSync(dirname(abs), { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the directory for ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: ExitCode.usage, hint: 'choose a writable path' });
  }
  let bak: string | undefined;
  if (exists) {
    let old: string | undefined;
    try {
      old = readInputFile(abs, { what, shown: path });
    } catch {
      // too large or not text: it cannot equal the new content, so it is replaced like any other (kept as .bak)
    }
    if (old === content) return undefined;
    if (!ctx.options.yes) {
      if (!ctx.term.interactive) {
        throw usageError(`${what} ${path} already exists`, 'pass --yes to replace it (the old file is kept as .bak), or choose another path');
      }
      const { confirm } = await ctx.term.prompts();
      const ok = await confirm({ message: `${path} exists. Replace it (the old one is kept as ${basename(path)}.bak)?`, default: false }, ctx.term.promptContext);
      if (!ok) throw new UserError(`kept the existing ${path}`, { exitCode: ExitCode.aborted, hint: 'choose another path with --values-out/--out-dir' });
    }
    bak = `${abs}.bak`;
    try {
      copyFileSync(abs, bak);
    } catch (e) {
      throw new UserError(`cannot keep the existing ${what} ${path} as ${basename(path)}.bak: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: ExitCode.usage, hint: 'choose a writable path' });
    }
  }
  const tmp = `${abs}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content, { mode: 0o644 });
    renameSync(tmp, abs);
  } catch (e) {
    throw new UserError(`cannot write ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: ExitCode.error, hint: 'choose a writable path' });
  }
  return bak;
}

/**
 * Create a file that holds secrets: mode 0600 from the first byte (never a moment world-readable), and never over an
 * existing file (O_EXCL): a backup file is named after its unique id, so an existing one is someone else's.
 */
export function assertCreatable(path: string, abs: string, what: string): void {
  if (existsSync(abs)) throw usageError(`${what} ${path} already exists`, 'choose another path with --file; an existing backup file is never replaced');
  if (!existsSync(dirname(abs))) throw usageError(`the directory of ${what} ${path} does not exist`, 'create it, or choose another path with --file');
}

export function createSecretFile(path: string, abs: string, content: string, what: string): void {
  try {
    writeFileSync(abs, content, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw usageError(`${what} ${path} already exists`, 'choose another path with --file; an existing backup file is never replaced');
    throw new UserError(`cannot write ${what} ${path}: ${code ?? (e as Error).message}`, { exitCode: ExitCode.error, hint: 'choose a writable path with --file' });
  }
}

// --- backup --copy directories ----------------------------------------------------------------------------------------

/**
 * A copy backup's directory must not exist or be empty: nothing of anyone's is ever overwritten. Returns whether it
 * exists (then it is empty), refuses anything else with a usage error.
 */
export function assertEmptyDir(path: string, abs: string, what: string): boolean {
  let st: Stats;
  try {
    st = statSync(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw usageError(`${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'choose another directory');
    if (!existsSync(dirname(abs))) throw usageError(`the parent directory of ${what} ${path} does not exist`, 'create it, or choose another directory');
    return false;
  }
  if (!st.isDirectory()) throw usageError(`${what} ${path} exists and is not a directory`, 'give a new or empty directory; nothing is ever overwritten');
  if (readdirSync(abs).length) throw usageError(`${what} ${path} is not empty`, 'give a new or empty directory; an earlier backup is never overwritten');
  return true;
}

/** Creates the directory with mode 0700 (it will hold the credentials), or tightens an existing empty one to 0700. */
export function createPrivateDir(path: string, abs: string, exists: boolean, what: string): void {
  try {
    if (exists) chmodSync(abs, 0o700);
    else mkdirSync(abs, { mode: 0o700 });
  } catch (e) {
    throw new UserError(`cannot create ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: ExitCode.usage, hint: 'choose a writable place' });
  }
}

/** Opens a new file for an archive: 0600 from the first byte, never over an existing one. */
export function openNewPrivateFile(abs: string): number {
  return openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
}

export function openForReading(abs: string): number {
  return openSync(abs, constants.O_RDONLY);
}

export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** sha256 and size of a file, read as a stream (archives are as large as the volumes). */
export async function fileDigest(abs: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(abs)) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), bytes };
}

/** Removes what a failed copy wrote (its own files only), and the directory when it made it and it is empty again. */
export function removeWritten(files: string[], dir?: string): void {
  for (const f of files) {
    try {
      unlinkSync(f);
    } catch {
      // gone already
    }
  }
  if (dir) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (or not ours): kept
    }
  }
}

export function isDirectory(abs: string): boolean {
  try {
    return statSync(abs).isDirectory();
  } catch {
    return false;
  }
}
