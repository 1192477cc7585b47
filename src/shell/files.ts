// Writing the user's files: never silently over an existing one (ask, or --yes; the old one is kept as .bak).
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Context } from '../context.js';
import { ExitCode, UserError, usageError } from '../core/errors.js';

/** Fail early (before any cluster work) when a file exists and nobody can be asked about replacing it. */
export function assertReplaceable(ctx: Context, path: string, what: string): void {
  const abs = isAbsolute(path) ? path : resolve(ctx.cwd, path);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw usageError(`${what} ${path} is a directory`, 'give a file path');
  if (existsSync(abs) && !ctx.options.yes && !ctx.term.interactive) {
    throw usageError(`${what} ${path} already exists`, 'pass --yes to replace it (the old file is kept as .bak), or choose another path');
  }
}

/**
 * Write a file, never silently over an existing one: with an existing file, ask (TTY) or require --yes; the old
 * content is kept as FILE.bak. Returns the .bak path when one was made.
 */
export async function writeSafely(ctx: Context, path: string, content: string, what: string): Promise<string | undefined> {
  const abs = isAbsolute(path) ? path : resolve(ctx.cwd, path);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw usageError(`${what} ${path} is a directory`, 'give a file path');
  try {
    mkdirSync(dirname(abs), { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the directory for ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: ExitCode.usage, hint: 'choose a writable path' });
  }
  let bak: string | undefined;
  if (existsSync(abs)) {
    const old = readFileSync(abs, 'utf8');
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
    copyFileSync(abs, bak);
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
