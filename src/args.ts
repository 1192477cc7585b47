// Argument parsing: a small table-driven parser (no dependency, loads nothing heavy).
// Every flag from the issue; per-command applicability; errors are UserErrors (exit 2) with a hint.
import { usageError } from './core/errors.js';

export const COMMANDS = ['install', 'upgrade', 'rollback', 'status', 'uninstall', 'backup', 'restore', 'render', 'preflight', 'presets'] as const;
export type CommandName = (typeof COMMANDS)[number];

type FlagType = 'string' | 'boolean' | 'strings';
interface FlagSpec {
  name: string; // long name without dashes
  short?: string;
  type: FlagType;
  /** property in Options */
  key: keyof Options;
  /** for booleans: also accept --no-<name> */
  negatable?: boolean;
  choices?: readonly string[];
  arg?: string; // metavar for help
  help: string;
  /** commands the flag applies to; undefined = all */
  only?: readonly CommandName[];
}

export interface Options {
  preset?: string;
  values: string[];
  set: string[];
  namespace: string;
  release: string;
  kubeContext?: string;
  kubeconfig?: string;
  chart?: string;
  chartVersion?: string;
  repoUrl?: string;
  plainHttp: boolean;
  caFile?: string;
  registry?: string;
  helm: string;
  valuesOut: string;
  yes: boolean;
  dryRun: boolean;
  /** Go-style duration as typed (e.g. "10m"); see timeoutMs */
  timeout: string;
  timeoutMs: number;
  /** undefined = the command's default (upgrade: on; install: never uninstalls) */
  rollbackOnFailure?: boolean;
  /** helm's own --wait decides readiness (default: helm applies, the CLI's health watch decides) */
  helmWait: boolean;
  skipSmoke: boolean;
  output: 'text' | 'json';
  /** false with --no-color (NO_COLOR is resolved in terminal.ts) */
  color: boolean;
  deleteData: boolean;
  outDir?: string;
  /** backup: the VolumeSnapshotClass (default: the driver's default class) */
  snapshotClass?: string;
  /** backup: where the backup file goes (default ./robustmq-backup-<id>.json) */
  file?: string;
  /** backup: copy the stopped release's volumes into this directory instead of snapshots */
  copy?: string;
  /** restore: the backup file, or the directory of a copy backup */
  from?: string;
  version: boolean;
  help: boolean;
}

export interface ParsedArgs {
  command: CommandName;
  /** true when the command word was typed (false: defaulted to install) */
  commandGiven: boolean;
  positionals: string[];
  options: Options;
  /** long names of the flags the user actually passed */
  given: Set<string>;
}

const DEPLOY: readonly CommandName[] = ['install', 'upgrade', 'render', 'preflight'];
const CHART: readonly CommandName[] = ['install', 'upgrade', 'render', 'preflight', 'presets', 'restore'];
const MUTATING: readonly CommandName[] = ['install', 'upgrade', 'rollback', 'uninstall', 'render', 'backup', 'restore'];

export const FLAGS: readonly FlagSpec[] = [
  { name: 'preset', type: 'string', key: 'preset', arg: 'NAME|FILE', help: 'dev, test, prod or a values file; without it a TTY gets the wizard', only: DEPLOY },
  { name: 'values', short: 'f', type: 'strings', key: 'values', arg: 'FILE', help: 'values file merged over the preset (restore: over the backup’s values; repeatable)', only: [...DEPLOY, 'restore'] },
  { name: 'set', type: 'strings', key: 'set', arg: 'K=V', help: 'a value, helm --set syntax (repeatable)', only: [...DEPLOY, 'restore'] },
  { name: 'namespace', short: 'n', type: 'string', key: 'namespace', arg: 'NS', help: 'namespace (default robustmq)' },
  { name: 'release', type: 'string', key: 'release', arg: 'NAME', help: 'helm release name (default robustmq)' },
  { name: 'kube-context', type: 'string', key: 'kubeContext', arg: 'NAME', help: 'kubeconfig context (default: current)' },
  { name: 'kubeconfig', type: 'string', key: 'kubeconfig', arg: 'FILE', help: 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' },
  { name: 'chart', type: 'string', key: 'chart', arg: 'PATH|TGZ|REPO/NAME|oci://…', help: 'chart to install (default: the chart in this package)', only: CHART },
  { name: 'chart-version', type: 'string', key: 'chartVersion', arg: 'VER', help: 'chart version for a repo or OCI chart', only: CHART },
  { name: 'repo-url', type: 'string', key: 'repoUrl', arg: 'URL', help: 'chart repository URL (added under a private repo name)', only: CHART },
  { name: 'plain-http', type: 'boolean', key: 'plainHttp', help: 'use plain HTTP for OCI/repo chart downloads', only: CHART },
  { name: 'ca-file', type: 'string', key: 'caFile', arg: 'FILE', help: 'CA bundle for the chart repository/registry', only: CHART },
  { name: 'registry', type: 'string', key: 'registry', arg: 'HOST[/PATH]', help: 'rewrite every image to this registry (global.imageRegistry)', only: DEPLOY },
  { name: 'helm', type: 'string', key: 'helm', arg: 'PATH', help: 'helm binary (default: helm on PATH; needs >= 3.14)' },
  { name: 'values-out', type: 'string', key: 'valuesOut', arg: 'FILE', help: 'where the overlay is written (default ./robustmq-values.yaml)', only: ['install', 'upgrade', 'restore'] },
  { name: 'yes', short: 'y', type: 'boolean', key: 'yes', help: 'no confirmation (prod in CI also needs --kube-context)', only: MUTATING },
  { name: 'dry-run', type: 'boolean', key: 'dryRun', help: 'touch no cluster, write no file: print the overlay and the helm commands', only: ['install', 'upgrade', 'rollback', 'uninstall'] },
  { name: 'timeout', type: 'string', key: 'timeout', arg: 'DURATION', help: 'deadline for helm and the health watch together, e.g. 10m (default 10m)', only: ['install', 'upgrade', 'rollback', 'uninstall', 'status', 'preflight', 'backup', 'restore'] },
  { name: 'rollback-on-failure', type: 'boolean', key: 'rollbackOnFailure', negatable: true, help: 'upgrade/rollback: roll back when health fails (default on for upgrade; install never uninstalls)', only: ['install', 'upgrade', 'rollback'] },
  { name: 'helm-wait', type: 'boolean', key: 'helmWait', help: "let helm's own --wait decide readiness too: helm then marks a release failed when health fails (slower: its watcher lags the pods)", only: ['install', 'upgrade', 'restore'] },
  { name: 'skip-smoke', type: 'boolean', key: 'skipSmoke', help: 'skip the RobustMQ check and helm test', only: ['install', 'upgrade', 'rollback', 'status', 'restore'] },
  { name: 'output', short: 'o', type: 'string', key: 'output', arg: 'text|json', choices: ['text', 'json'], help: 'json: machine output on stdout, human text on stderr' },
  { name: 'color', type: 'boolean', key: 'color', negatable: true, help: '--no-color: no ANSI colors (NO_COLOR is honoured too)' },
  { name: 'delete-data', type: 'boolean', key: 'deleteData', help: 'uninstall: also delete PVCs and the credentials Secret', only: ['uninstall'] },
  { name: 'out-dir', type: 'string', key: 'outDir', arg: 'DIR', help: 'render: directory for values.yaml and manifests.yaml', only: ['render'] },
  { name: 'snapshot-class', type: 'string', key: 'snapshotClass', arg: 'NAME', help: 'backup: VolumeSnapshotClass (default: the one marked default for the volumes’ driver)', only: ['backup'] },
  { name: 'file', type: 'string', key: 'file', arg: 'FILE', help: 'backup: where the backup file goes (default ./robustmq-backup-<id>.json; it holds the credentials)', only: ['backup'] },
  { name: 'copy', type: 'string', key: 'copy', arg: 'DIR', help: 'backup: without CSI snapshots: stop the release, copy each volume into DIR (new or empty), start it again', only: ['backup'] },
  { name: 'from', type: 'string', key: 'from', arg: 'FILE|DIR', help: 'restore: the backup file (needed after the namespace or the credentials Secret is gone), or a backup --copy directory', only: ['restore'] },
  { name: 'version', type: 'boolean', key: 'version', help: 'print the version' },
  { name: 'help', short: 'h', type: 'boolean', key: 'help', help: 'this help' },
];

export function defaultOptions(): Options {
  return {
    values: [],
    set: [],
    namespace: 'robustmq',
    release: 'robustmq',
    plainHttp: false,
    helm: 'helm',
    valuesOut: './robustmq-values.yaml',
    yes: false,
    dryRun: false,
    timeout: '10m',
    timeoutMs: 600_000,
    helmWait: false,
    skipSmoke: false,
    output: 'text',
    color: true,
    deleteData: false,
    version: false,
    help: false,
  };
}

/** Go duration subset: 90s, 10m, 1h30m, 1.5h, 500ms. Returns milliseconds. */
export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h))+$/.test(s)) {
    throw usageError(`--timeout ${JSON.stringify(s)} is not a duration`, 'use a Go duration such as 300s, 10m or 1h30m');
  }
  while ((m = re.exec(s)) !== null) {
    const n = Number(m[1]);
    const unit = m[2];
    total += n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
    matched += m[0].length;
  }
  if (matched !== s.length || total <= 0) {
    throw usageError(`--timeout ${JSON.stringify(s)} must be a positive duration`, 'use a Go duration such as 300s, 10m or 1h30m');
  }
  return Math.round(total);
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length]![b.length]!;
}

/** The closest known word within distance 2 (or a prefix match), for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 3 ? 0.5 : editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= 2 ? best : undefined;
}

const HELP_HINT = 'see robustmq-install --help';

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const options = defaultOptions();
  const given = new Set<string>();
  const positionals: string[] = [];
  const byLong = new Map(FLAGS.map((f) => [f.name, f]));
  const byShort = new Map(FLAGS.filter((f) => f.short).map((f) => [f.short!, f]));

  const assign = (spec: FlagSpec, value: string | boolean, shown: string) => {
    if (spec.type !== 'strings' && given.has(spec.name) && spec.type === 'string') {
      throw usageError(`${shown} was given twice`, `pass it once (only -f/--values and --set repeat)`);
    }
    given.add(spec.name);
    if (spec.choices && typeof value === 'string' && !spec.choices.includes(value)) {
      throw usageError(`${shown} must be one of ${spec.choices.join(', ')}, not ${JSON.stringify(value)}`, HELP_HINT);
    }
    const opts = options as unknown as Record<string, unknown>;
    if (spec.type === 'strings') (opts[spec.key] as string[]).push(value as string);
    else opts[spec.key] = value;
  };

  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    let negated = false;
    let shown: string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      shown = `--${name}`;
      spec = byLong.get(name);
      if (!spec && name.startsWith('no-')) {
        const pos = byLong.get(name.slice(3));
        if (pos?.negatable) {
          spec = pos;
          negated = true;
        }
      }
      if (!spec) {
        const names = FLAGS.flatMap((f) => (f.negatable ? [f.name, `no-${f.name}`] : [f.name]));
        const guess = closest(name, names);
        throw usageError(`unknown flag ${shown}`, guess ? `did you mean --${guess}? (${HELP_HINT})` : HELP_HINT);
      }
    } else {
      // -n value, -nvalue, -n=value; booleans may not be bundled (keeps errors clear)
      const letter = arg[1]!;
      shown = `-${letter}`;
      spec = byShort.get(letter);
      if (!spec) throw usageError(`unknown flag ${arg}`, HELP_HINT);
      if (arg.length > 2) inline = arg[2] === '=' ? arg.slice(3) : arg.slice(2);
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined) {
        if (inline === 'true' || inline === 'false') {
          assign(spec, negated ? inline === 'false' : inline === 'true', shown);
          continue;
        }
        throw usageError(`${shown} takes no value (got ${JSON.stringify(inline)})`, HELP_HINT);
      }
      assign(spec, !negated, shown);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) {
        throw usageError(`${shown} needs a value${spec.arg ? ` (${spec.arg})` : ''}`, HELP_HINT);
      }
      value = next;
      i++;
    }
    if (value === '' && spec.name !== 'registry') throw usageError(`${shown} needs a non-empty value`, HELP_HINT);
    assign(spec, value, shown);
  }

  let command: CommandName = 'install';
  let commandGiven = false;
  const first = positionals[0];
  if (first !== undefined) {
    if ((COMMANDS as readonly string[]).includes(first)) {
      command = first as CommandName;
      commandGiven = true;
      positionals.shift();
    } else if (first === 'help') {
      options.help = true;
      positionals.shift();
      const sub = positionals.shift();
      if (sub !== undefined) {
        if (!(COMMANDS as readonly string[]).includes(sub)) throw unknownCommand(sub);
        command = sub as CommandName;
        commandGiven = true;
      }
    } else {
      throw unknownCommand(first);
    }
  }
  if (options.help || options.version) return { command, commandGiven, positionals, options, given };

  for (const name of given) {
    const spec = byLong.get(name)!;
    if (spec.only && !spec.only.includes(command)) {
      throw usageError(`--${name} does not apply to ${command}`, `it is for: ${spec.only.join(', ')}`);
    }
  }
  const maxPositionals = command === 'rollback' || command === 'restore' ? 1 : command === 'backup' ? 2 : 0;
  if (positionals.length > maxPositionals) {
    throw usageError(`unexpected argument ${JSON.stringify(positionals[maxPositionals])}`, command in USAGE_HINTS ? USAGE_HINTS[command]! : HELP_HINT);
  }
  if (command === 'backup') checkBackupArgs(positionals, given);
  if (command === 'restore') {
    if (positionals[0] === undefined && !options.from) throw usageError('restore needs a backup ID or --from FILE|DIR', USAGE_HINTS.restore);
    if (positionals[0] !== undefined && !BACKUP_ID.test(positionals[0])) throw usageError(`${JSON.stringify(positionals[0])} is not a backup ID`, 'IDs look like robustmq-20260102-030405: robustmq-install backup list shows them');
  }
  if (command === 'rollback' && positionals[0] !== undefined && !/^[1-9]\d*$/.test(positionals[0])) {
    throw usageError(`revision must be a positive integer, not ${JSON.stringify(positionals[0])}`, 'see robustmq-install rollback (without a revision it shows a picker)');
  }
  if (given.has('timeout')) options.timeoutMs = parseDuration(options.timeout);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.namespace) || options.namespace.length > 63) {
    throw usageError(`namespace ${JSON.stringify(options.namespace)} is not a valid Kubernetes name`, 'lowercase letters, digits and "-", at most 63 characters');
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.release) || options.release.length > 53) {
    throw usageError(`release ${JSON.stringify(options.release)} is not a valid helm release name`, 'lowercase letters, digits and "-", at most 53 characters');
  }
  if (command === 'render' && !options.outDir) throw usageError('render needs --out-dir DIR', 'robustmq-install render --preset dev --out-dir ./out');
  if ((options.chartVersion || options.repoUrl) && !options.chart) {
    throw usageError(`${options.repoUrl ? '--repo-url' : '--chart-version'} needs --chart`, 'e.g. --chart robustmq --repo-url https://charts.example.com --chart-version 0.4.11');
  }
  return { command, commandGiven, positionals, options, given };
}

const USAGE_HINTS: Partial<Record<CommandName, string>> = {
  rollback: 'usage: robustmq-install rollback [REVISION]',
  backup: 'usage: robustmq-install backup | backup --copy DIR | backup list | backup delete ID',
  restore: 'usage: robustmq-install restore ID | restore --from FILE|DIR',
};
/** `<release>-<YYYYMMDD>-<HHMMSS>` (src/core/backup.ts backupId) */
const BACKUP_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?-\d{8}-\d{6}$/;

function checkBackupArgs(positionals: string[], given: Set<string>): void {
  const [sub, id] = positionals;
  if (sub === undefined) {
    // a copy needs no snapshot class, and its backup.json lives in DIR
    for (const f of ['snapshot-class', 'file']) if (given.has('copy') && given.has(f)) throw usageError(`--${f} does not apply to backup --copy`, `--copy DIR copies the files (no snapshots) and writes DIR/backup.json; drop --${f}`);
    return;
  }
  if (sub !== 'list' && sub !== 'delete') {
    throw usageError(`unknown backup action ${JSON.stringify(sub)}`, `${USAGE_HINTS.backup}${closest(sub, ['list', 'delete']) ? ` (did you mean ${closest(sub, ['list', 'delete'])}?)` : ''}`);
  }
  if (sub === 'list' && id !== undefined) throw usageError(`unexpected argument ${JSON.stringify(id)}`, USAGE_HINTS.backup);
  if (sub === 'delete') {
    if (id === undefined) throw usageError('backup delete needs the backup ID', 'robustmq-install backup list shows them');
    if (!BACKUP_ID.test(id)) throw usageError(`${JSON.stringify(id)} is not a backup ID`, 'IDs look like robustmq-20260102-030405: robustmq-install backup list shows them');
  }
  for (const f of ['snapshot-class', 'file', 'copy']) if (given.has(f)) throw usageError(`--${f} does not apply to backup ${sub}`, 'it is for taking a backup: robustmq-install backup');
}

function unknownCommand(word: string) {
  const guess = closest(word, COMMANDS);
  return usageError(`unknown command ${JSON.stringify(word)}`, guess ? `did you mean ${guess}? (${HELP_HINT})` : `commands: ${COMMANDS.join(', ')}`);
}

export function helpText(command?: CommandName): string {
  const lines: string[] = [];
  const usage: Record<CommandName, string> = {
    install: 'install [--preset NAME|FILE] [flags]   the wizard on a TTY, non-interactive with --preset',
    upgrade: 'upgrade [flags]                        current values become the defaults; shows a values plan',
    rollback: 'rollback [REVISION] [flags]           without REVISION: a picker over helm history',
    status: 'status [-o json]                       release, pods per role, services, Raft leaders',
    uninstall: 'uninstall [--delete-data] [flags]     keeps PVCs and the credentials Secret unless --delete-data',
    backup: 'backup [list | delete ID | --copy DIR] CSI VolumeSnapshots of every data volume and a local backup file; --copy: a stopped copy',
    restore: 'restore ID | --from FILE|DIR [flags]  volumes from a backup, then install with its values',
    render: 'render --out-dir DIR [flags]          writes DIR/values.yaml and DIR/manifests.yaml, no cluster',
    preflight: 'preflight [flags]                      the checks only',
    presets: 'presets                                a table of the presets',
  };
  lines.push('robustmq-install: install, upgrade and prove healthy a RobustMQ cluster on Kubernetes', '');
  if (command) {
    lines.push(`Usage: robustmq-install ${usage[command]}`, '');
  } else {
    lines.push('Usage: robustmq-install [command] [flags]', '', 'Commands:');
    for (const c of COMMANDS) lines.push(`  ${usage[c]}`);
    lines.push('');
  }
  lines.push('Flags:');
  for (const f of FLAGS) {
    if (command && f.only && !f.only.includes(command)) continue;
    const names = `${f.short ? `-${f.short}, ` : '    '}--${f.negatable ? `[no-]${f.name}` : f.name}${f.arg ? ` ${f.arg}` : ''}`;
    lines.push(`  ${names.padEnd(44)} ${f.help}`);
  }
  lines.push(
    '',
    'Exit codes: 0 ok, 1 error, 2 bad usage or input, 3 preflight failed, 4 health failed or timed out, 130 aborted.',
    'Human text goes to stderr; with -o json, JSON goes to stdout.',
  );
  return lines.join('\n') + '\n';
}
