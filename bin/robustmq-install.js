#!/usr/bin/env node
// Launcher: check the Node version with a clear message (before any modern syntax can fail), then run dist/cli.js.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(
    `robustmq-install needs Node.js >= 20.19 (this is ${process.versions.node}).\n` +
      'hint: install a current Node.js (https://nodejs.org) or use a version manager such as nvm or fnm\n',
  );
  process.exit(1);
}
const { runMain } = await import('../dist/cli.js');
await runMain(process.argv.slice(2));
