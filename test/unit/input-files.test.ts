// Every file the CLI reads goes through one checked read (src/shell/files.ts readInputFile): a device, a FIFO, a
// directory, a socket, a file over the limit or not UTF-8 is refused with one line, a hint and exit 2, never a hang
// or a stack. Unit cases first, then the same refusals through the CLI (in-process and the built binary).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isUserError, type UserError } from '../../src/core/errors.js';
import { MAX_INPUT_BYTES, readInputFile } from '../../src/shell/files.js';
import { helmPath } from '../support/tools.js';
import { runCli } from './cli-harness.js';

// a ceiling for runs of the CLI and helm on a loaded 2-core machine, not a measured duration
vi.setConfig({ testTimeout: 60_000 });

const helm4 = helmPath(4);
const root = resolve(import.meta.dirname, '../..');
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

// made while the module loads: the test tables below name paths in it
const dir = mkdtempSync(join(tmpdir(), 'rmq-inputs-'));
let socketServer: Server;
beforeAll(async () => {
  writeFileSync(join(dir, 'ok.yaml'), 'topology: combined\n');
  writeFileSync(join(dir, 'latin1.yaml'), Buffer.from('name: caf\xe9\n', 'latin1'));
  writeFileSync(join(dir, 'utf16.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a: 1\n', 'utf16le')]));
  writeFileSync(join(dir, 'bom.yaml'), '\ufefftopology: split\n');
  writeFileSync(join(dir, 'notpem.crt'), 'just text\n');
  writeFileSync(join(dir, 'ca.pem'), PEM);
  mkdirSync(join(dir, 'adir'));
  execFileSync('mkfifo', [join(dir, 'p.fifo')]);
  // sparse: one byte over the limit without writing a megabyte
  const fd = openSync(join(dir, 'big.yaml'), 'w');
  ftruncateSync(fd, MAX_INPUT_BYTES + 1);
  closeSync(fd);
  socketServer = createServer();
  await new Promise<void>((r) => socketServer.listen(join(dir, 's.sock'), r));
});
afterAll(() => {
  socketServer?.close();
});

function refusal(path: string, o: Parameters<typeof readInputFile>[1]): UserError {
  try {
    readInputFile(path, o);
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
  throw new Error(`${path} was read`);
}

describe('readInputFile', () => {
  it('reads a regular UTF-8 file; a UTF-8 byte-order mark is dropped', () => {
    expect(readInputFile(join(dir, 'ok.yaml'), { what: 'values file' })).toBe('topology: combined\n');
    expect(readInputFile(join(dir, 'bom.yaml'), { what: 'values file' })).toBe('topology: split\n');
  });
  it.each([
    ['/dev/zero', 'is a device, not a regular file'],
    ['/dev/null', 'is a device, not a regular file'],
    ['p.fifo', 'is a named pipe (FIFO), not a regular file'],
    ['adir', 'is a directory'],
    ['s.sock', 'is a socket, not a regular file'],
    ['missing.yaml', 'no such file'],
    ['ok.yaml/x', 'no such file (a part of the path is not a directory)'],
    ['big.yaml', `is ${MAX_INPUT_BYTES + 1} bytes, over the 1 MiB limit`],
    ['latin1.yaml', 'is not UTF-8 text (invalid byte 0xe9 at offset 9)'],
    ['utf16.yaml', 'is UTF-16 text, not UTF-8'],
  ])('%s: %s, exit 2', (name, why) => {
    const path = name.startsWith('/') ? name : join(dir, name);
    const e = refusal(path, { what: 'values file', shown: name });
    expect(e.message).toBe(`values file ${name}: ${why}`);
    expect(e.exitCode).toBe(2);
    expect(e.hint).toBeTruthy();
  });
  it('the limit is the caller’s', () => {
    expect(refusal(join(dir, 'ok.yaml'), { what: 'x', shown: 'ok.yaml', maxBytes: 4 }).message).toBe('x ok.yaml: is 19 bytes, over the 4 bytes limit');
    expect(readInputFile(join(dir, 'ok.yaml'), { what: 'x', maxBytes: 19 })).toBe('topology: combined\n');
  });
  it('a file whose size says 0 but has content (/proc) is read to its end, and still bounded by the limit', () => {
    expect(readInputFile('/proc/self/status', { what: 'x' })).toMatch(/^Name:/);
    expect(refusal('/proc/self/status', { what: 'x', shown: 'status', maxBytes: 8 }).message).toBe('x status: is over the 8 bytes limit');
  });
  it('hints: the caller’s for a wrong path, fixed ones for size and encoding', () => {
    expect(refusal('/dev/zero', { what: 'preset', hint: 'use one of dev, test, prod or a values file' }).hint).toBe('use one of dev, test, prod or a values file');
    expect(refusal(join(dir, 'big.yaml'), { what: 'x' }).hint).toBe('pass the file itself, not an archive or a log: values files and CA bundles are far smaller');
    expect(refusal(join(dir, 'latin1.yaml'), { what: 'x' }).hint).toBe('save it as UTF-8 text; a binary file (an archive, a certificate in DER) cannot be used here');
  });
});

describe('through the CLI: one line, a hint, exit 2, no stack, nothing on stdout', () => {
  const dry = ['--preset', 'dev', '--dry-run', '--helm', helm4];
  const cases: [string, () => string[], string][] = [
    ['-f /dev/zero', () => [...dry, '-f', '/dev/zero'], 'Error: values file /dev/zero: is a device, not a regular file\nhint: check the path\n'],
    ['-f FIFO', () => [...dry, '-f', join(dir, 'p.fifo')], `Error: values file ${join(dir, 'p.fifo')}: is a named pipe (FIFO), not a regular file\nhint: check the path\n`],
    ['-f DIR', () => [...dry, '-f', join(dir, 'adir')], `Error: values file ${join(dir, 'adir')}: is a directory\nhint: check the path\n`],
    ['-f too large', () => [...dry, '-f', join(dir, 'big.yaml')], `Error: values file ${join(dir, 'big.yaml')}: is ${MAX_INPUT_BYTES + 1} bytes, over the 1 MiB limit\nhint: pass the file itself, not an archive or a log: values files and CA bundles are far smaller\n`],
    ['-f Latin-1', () => [...dry, '-f', join(dir, 'latin1.yaml')], `Error: values file ${join(dir, 'latin1.yaml')}: is not UTF-8 text (invalid byte 0xe9 at offset 9)\nhint: save it as UTF-8 text; a binary file (an archive, a certificate in DER) cannot be used here\n`],
    ['--preset FIFO', () => ['--preset', join(dir, 'p.fifo'), '--dry-run', '--helm', helm4], `Error: preset ${join(dir, 'p.fifo')}: is a named pipe (FIFO), not a regular file\nhint: use one of dev, test, prod or a values file\n`],
    ['--preset /dev/zero', () => ['--preset', '/dev/zero', '--dry-run', '--helm', helm4], 'Error: preset /dev/zero: is a device, not a regular file\nhint: use one of dev, test, prod or a values file\n'],
    ['--ca-file /dev/zero', () => [...dry, '--chart', 'oci://r.example.com/c', '--ca-file', '/dev/zero'], 'Error: --ca-file /dev/zero: is a device, not a regular file\nhint: pass the CA bundle that signed the registry/repository certificate\n'],
    ['--ca-file FIFO', () => [...dry, '--chart', 'oci://r.example.com/c', '--ca-file', join(dir, 'p.fifo')], `Error: --ca-file ${join(dir, 'p.fifo')}: is a named pipe (FIFO), not a regular file\nhint: pass the CA bundle that signed the registry/repository certificate\n`],
    ['--ca-file without a certificate', () => [...dry, '--chart', 'oci://r.example.com/c', '--ca-file', join(dir, 'notpem.crt')], `Error: --ca-file ${join(dir, 'notpem.crt')}: no PEM certificate in it (no "-----BEGIN CERTIFICATE-----" line)\nhint: pass the CA bundle that signed the registry/repository certificate\n`],
    ['--kubeconfig FIFO', () => [...dry, '--kubeconfig', join(dir, 'p.fifo')], `Error: --kubeconfig ${join(dir, 'p.fifo')}: is a named pipe (FIFO), not a regular file\nhint: pass the kubeconfig file of the cluster, or leave --kubeconfig out (KUBECONFIG and ~/.kube/config apply)\n`],
    ['--chart FIFO', () => [...dry, '--chart', join(dir, 'p.fifo')], `Error: --chart ${join(dir, 'p.fifo')}: is a named pipe (FIFO), not a regular file\nhint: point --chart at a chart directory, a .tgz, REPO/NAME or oci://…\n`],
  ];
  it.each(cases)('%s', async (_name, argv, stderr) => {
    const r = await runCli(argv(), { env: { NO_COLOR: '1' } });
    expect(r.stderr).toBe(stderr);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
  it('a CA bundle that is a PEM file passes the check (and the run goes on to the chart)', async () => {
    const r = await runCli([...dry, '--chart', join(dir, 'adir'), '--ca-file', join(dir, 'ca.pem')], { env: { NO_COLOR: '1' } });
    expect(r.stderr).toBe(`Error: --chart ${join(dir, 'adir')}: no Chart.yaml in that directory\nhint: point --chart at a chart directory, a .tgz, REPO/NAME or oci://…\n`);
  });
  it('render over an existing values.yaml that is a FIFO: refused before anything is written', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rmq-inputs-out-'));
    mkdirSync(join(cwd, 'out'));
    execFileSync('mkfifo', [join(cwd, 'out', 'values.yaml')]);
    const r = await runCli(['render', '--preset', 'dev', '--out-dir', 'out', '--helm', helm4, '--yes'], { cwd, env: { NO_COLOR: '1' } });
    expect(r.stderr).toBe(`Error: values file ${join(cwd, 'out', 'values.yaml')} is a named pipe (FIFO), not a regular file\nhint: give the path of a regular file (it is written, and the previous one kept as .bak)\n`);
    expect(r.code).toBe(2);
  });
  it('--values-out /dev/zero: refused (the existing file would be read to compare, and kept as .bak)', async () => {
    const detectFacts = async () => ({ reachable: true, crds: {}, context: 'c', server: 'https://127.0.0.1:1', kubeVersion: 'v1.36.0', storageClasses: [{ name: 'standard', isDefault: true }], namespaceExists: true, credentialsSecretExists: false });
    const r = await runCli(['--preset', 'dev', '--helm', helm4, '--values-out', '/dev/zero'], { env: { NO_COLOR: '1' }, detectFacts });
    expect(r.stderr).toBe('Error: overlay /dev/zero is a device, not a regular file\nhint: give the path of a regular file (it is written, and the previous one kept as .bak)\n');
    expect(r.code).toBe(2);
  });
});

describe('the built binary', () => {
  // the bundle, not the sources: the checked read must survive esbuild and the lazy command loading
  const bin = join(root, 'bin', 'robustmq-install.js');
  it.each([
    [['-f', '/dev/zero'], 'Error: values file /dev/zero: is a device, not a regular file\nhint: check the path\n'],
    [['--preset', 'FIFO'], 'Error: preset FIFO: is a named pipe (FIFO), not a regular file\nhint: use one of dev, test, prod or a values file\n'],
  ])('%j → exit 2 with one line and a hint', (extra, stderr) => {
    const args = extra.map((a) => (a === 'FIFO' ? join(dir, 'p.fifo') : a));
    const argv = args[0] === '--preset' ? [...args, '--dry-run', '--helm', helm4] : ['--preset', 'dev', '--dry-run', '--helm', helm4, ...args];
    // the timeout only kills a hang (the bug this guards against), it is not a measured duration
    const r = spawnSync(process.execPath, [bin, ...argv], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' }, timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe(stderr.replace('FIFO', join(dir, 'p.fifo')));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
  });
});
