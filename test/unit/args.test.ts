import { describe, expect, it } from 'vitest';
import { closest, FLAGS, helpText, parseArgs, parseDuration } from '../../src/args.js';
import { UserError } from '../../src/core/errors.js';

function fails(argv: string[]): UserError {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error(`expected ${argv.join(' ')} to fail`);
}

describe('parseArgs', () => {
  it('defaults to install with the documented defaults', () => {
    const a = parseArgs([]);
    expect(a.command).toBe('install');
    expect(a.commandGiven).toBe(false);
    expect(a.options).toMatchObject({ namespace: 'robustmq', release: 'robustmq', valuesOut: './robustmq-values.yaml', output: 'text', helm: 'helm', timeout: '10m', timeoutMs: 600_000, yes: false, dryRun: false, color: true });
    expect(a.options.rollbackOnFailure).toBeUndefined();
  });

  it('parses every flag of the issue', () => {
    const a = parseArgs([
      'install', '--preset', 'prod', '-f', 'a.yaml', '--values=b.yaml', '--set', 'x=1', '--set=y=2', '-n', 'mq', '--release', 'r1',
      '--kube-context', 'ctx', '--kubeconfig', '/k', '--chart', 'oci://reg/robustmq', '--chart-version', '1.2.3', '--plain-http',
      '--ca-file', '/ca.pem', '--registry', 'mirror.local', '--helm', '/bin/helm', '--values-out', 'o.yaml', '-y', '--dry-run',
      '--timeout', '15m', '--no-rollback-on-failure', '--skip-smoke', '-o', 'json', '--no-color',
    ]);
    expect(a.options).toMatchObject({
      preset: 'prod', values: ['a.yaml', 'b.yaml'], set: ['x=1', 'y=2'], namespace: 'mq', release: 'r1', kubeContext: 'ctx', kubeconfig: '/k',
      chart: 'oci://reg/robustmq', chartVersion: '1.2.3', plainHttp: true, caFile: '/ca.pem', registry: 'mirror.local', helm: '/bin/helm',
      valuesOut: 'o.yaml', yes: true, dryRun: true, timeout: '15m', timeoutMs: 900_000, rollbackOnFailure: false, skipSmoke: true, output: 'json', color: false,
    });
  });

  it('accepts -nNS, -n=NS and --rollback-on-failure', () => {
    expect(parseArgs(['-nfoo']).options.namespace).toBe('foo');
    expect(parseArgs(['-n=bar']).options.namespace).toBe('bar');
    expect(parseArgs(['upgrade', '--rollback-on-failure']).options.rollbackOnFailure).toBe(true);
    expect(parseArgs(['uninstall', '--delete-data']).options.deleteData).toBe(true);
    expect(parseArgs(['render', '--out-dir', 'x']).options.outDir).toBe('x');
    expect(parseArgs(['rollback', '3']).positionals).toEqual(['3']);
  });

  it('--version and --help win over everything else', () => {
    expect(parseArgs(['--version', '-o', 'json']).options).toMatchObject({ version: true, output: 'json' });
    expect(() => parseArgs(['--version', '--bogus'])).toThrow('unknown flag --bogus');
    expect(parseArgs(['--help']).options.help).toBe(true);
    expect(parseArgs(['help', 'render'])).toMatchObject({ command: 'render', commandGiven: true, options: { help: true } });
    expect(parseArgs(['status', '-h'])).toMatchObject({ command: 'status', options: { help: true } });
  });

  it.each([
    [['--nope'], 'unknown flag --nope', /see robustmq-install --help/],
    [['--namepsace', 'x'], 'unknown flag --namepsace', /did you mean --namespace\?/],
    [['instal'], 'unknown command "instal"', /did you mean install\?/],
    [['frobnicate'], 'unknown command "frobnicate"', /commands: install, upgrade/],
    [['-x'], 'unknown flag -x', /--help/],
    [['--preset'], '--preset needs a value (NAME|FILE)', /--help/],
    [['--preset', '--dry-run'], '--preset needs a value (NAME|FILE)', /--help/],
    [['--release', 'r', '--release', 's'], '--release was given twice', /pass it once/],
    [['-o', 'yaml'], '-o must be one of text, json, not "yaml"', /--help/],
    [['--dry-run=maybe'], '--dry-run takes no value (got "maybe")', /--help/],
    [['--timeout', '10'], '--timeout "10" is not a duration', /10m/],
    [['--timeout', '0s'], '--timeout "0s" must be a positive duration', /10m/],
    [['-n', 'Bad_NS'], 'namespace "Bad_NS" is not a valid Kubernetes name', /lowercase/],
    [['--release', 'a'.repeat(54)], `release "${'a'.repeat(54)}" is not a valid helm release name`, /53/],
    [['status', '--preset', 'dev'], '--preset does not apply to status', /it is for: install, upgrade, render, preflight/],
    [['install', '--delete-data'], '--delete-data does not apply to install', /uninstall/],
    [['install', '--out-dir', 'x'], '--out-dir does not apply to install', /render/],
    [['render'], 'render needs --out-dir DIR', /--out-dir/],
    [['rollback', 'latest'], 'revision must be a positive integer, not "latest"', /picker/],
    [['rollback', '1', '2'], 'unexpected argument "2"', /rollback \[REVISION\]/],
    [['install', 'extra'], 'unexpected argument "extra"', /--help/],
    [['--chart-version', '1.0.0'], '--chart-version needs --chart', /--repo-url/],
    [['--repo-url', 'https://x'], '--repo-url needs --chart', /--repo-url/],
    [['--set', ''], '--set needs a non-empty value', /--help/],
  ])('%j → exit 2: %s', (argv, message, hint) => {
    const e = fails(argv as string[]);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(message);
    expect(e.hint).toMatch(hint);
  });

  it('an empty --registry is allowed (clears global.imageRegistry)', () => {
    expect(parseArgs(['--registry=']).options.registry).toBe('');
  });
  it('a value may start with a dash only when it is a number', () => {
    expect(fails(['--set', '-x']).message).toBe('--set needs a value (K=V)');
  });
  it('-- ends the flags: what follows is a word, not a flag', () => {
    expect(fails(['--', '--dry-run']).message).toBe('unknown command "--dry-run"');
  });
});

describe('parseDuration', () => {
  it.each([
    ['300s', 300_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
  ])('%s = %d ms', (s, ms) => expect(parseDuration(s)).toBe(ms));
  it.each(['', '10', 'm', '10x', '-5m', '5m ', 'ten'])('rejects %j', (s) => expect(() => parseDuration(s)).toThrow(UserError));
});

describe('closest / help', () => {
  it('suggests near words and prefixes, nothing for far ones', () => {
    expect(closest('upgarde', ['upgrade', 'uninstall'])).toBe('upgrade');
    expect(closest('unins', ['upgrade', 'uninstall'])).toBe('uninstall');
    expect(closest('zzzzzz', ['upgrade', 'uninstall'])).toBeUndefined();
  });
  it('lists every flag and the exit codes; command help lists only its flags', () => {
    const all = helpText();
    for (const f of FLAGS) expect(all).toContain(`--${f.negatable ? `[no-]${f.name}` : f.name}`);
    expect(all).toContain('Exit codes: 0 ok, 1 error, 2 bad usage or input, 3 preflight failed, 4 health failed or timed out, 130 aborted.');
    const render = helpText('render');
    expect(render).toContain('--out-dir');
    expect(render).not.toContain('--delete-data');
  });
});
