// Bundles src/cli.ts into dist/ with esbuild: ESM, node20, code splitting so each command (and the heavy modules
// it needs: @inquirer/prompts, listr2, yaml, execa) is a lazily imported chunk. The published package has no
// runtime dependencies.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
rmSync(join(root, 'dist'), { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  define: { __CLI_VERSION__: JSON.stringify(pkg.version) },
  // some bundled CJS dependencies call require() for node builtins
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

// Values files that ship in the package, parsed now with the same parser and options the CLI uses, keyed by the
// hash of their text (src/commands/shared.ts parsedAtBuild): the CLI skips parsing them at run time.
const { parse } = await import('yaml');
const { createHash } = await import('node:crypto');
const { readdirSync, writeFileSync } = await import('node:fs');
const shipped = [join(root, 'chart', 'robustmq', 'values.yaml'), ...readdirSync(join(root, 'presets')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'presets', f))];
const prebuilt = {};
for (const file of shipped) {
  const text = readFileSync(file, 'utf8');
  prebuilt[createHash('sha256').update(text).digest('hex')] = parse(text, { prettyErrors: true }) ?? {};
}
writeFileSync(join(root, 'dist', 'values-cache.json'), JSON.stringify(prebuilt));

if (process.argv.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(result.metafile));
}
