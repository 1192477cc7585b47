// Build-time constants. esbuild defines __CLI_VERSION__ (scripts/build.mjs); under tsx/vitest it is absent.
declare const __CLI_VERSION__: string | undefined;

export const CLI_NAME = 'robustmq-install';
export const CLI_VERSION: string = typeof __CLI_VERSION__ === 'string' ? __CLI_VERSION__ : '0.0.0-dev';
