// `robustmq-install uninstall`: the confirm names release, namespace and context. PVCs AND the credentials Secret are
// kept unless --delete-data, because RobustMQ stores the MQTT user (with its password) in the Raft data on those
// volumes: a reinstall must find the same password. It prints what was kept. helm uninstall runs to completion even
// after Ctrl-C; nothing destructive starts after one.
import type { Context } from '../context.js';
import { ExitCode, UserError, usageError } from '../core/errors.js';
import { credentialsSecretName } from '../core/overlay.js';
import { formatCommand, uninstallArgv } from '../core/flags.js';
import { helmAndReachableCluster, kubeOf } from '../flows/cluster.js';
import { releaseStatus } from '../flows/release.js';
import { run as runHelm } from '../shell/helm.js';

export async function run(ctx: Context): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  const { helm, facts } = await helmAndReachableCluster(ctx);
  const kube = kubeOf(ctx);
  const st = await releaseStatus(ctx, helm, o.release, o.namespace);
  const secretName = credentialsSecretName(o.release);
  const pvcs = facts.namespaceExists === false ? [] : (await kube.list('persistentvolumeclaims', { namespace: o.namespace, selector: `app.kubernetes.io/instance=${o.release}` })).map((p) => p.metadata.name);
  const secretExists = facts.credentialsSecretExists === true;
  const where = `namespace ${o.namespace}, context ${facts.context ?? '(current)'}${facts.server ? ` (${facts.server})` : ''}`;

  if (!st && !(o.deleteData && (pvcs.length || secretExists))) {
    const left = [...pvcs.map((p) => `pvc/${p}`), ...(secretExists ? [`secret/${secretName}`] : [])];
    throw new UserError(`release ${o.release} not found in ${where}`, {
      exitCode: ExitCode.preflight,
      hint: left.length ? `left from an earlier install: ${left.join(', ')}; --delete-data removes them` : 'check --release/-n/--kube-context',
    });
  }
  const argv = uninstallArgv({ helmMajor: helm.major, release: o.release, namespace: o.namespace, kubeContext: o.kubeContext, kubeconfig: o.kubeconfig, timeout: o.timeout });
  const dataSteps = o.deleteData ? [...(pvcs.length ? [`kubectl delete pvc -n ${o.namespace} ${pvcs.join(' ')}`] : []), ...(secretExists ? [`kubectl delete secret -n ${o.namespace} ${secretName}`] : [])] : [];

  if (o.dryRun) {
    if (t.json) t.writeJson({ dryRun: true, release: o.release, namespace: o.namespace, commands: [...(st ? [formatCommand(argv, helm.path)] : []), ...dataSteps], keep: o.deleteData ? [] : [...pvcs.map((p) => `pvc/${p}`), ...(secretExists ? [`secret/${secretName}`] : [])] });
    else {
      t.line(`Dry run: would uninstall ${o.release} from ${where}:`);
      if (st) t.line(`  ${formatCommand(argv, helm.path)}`);
      for (const s of dataSteps) t.line(`  ${s}`);
      if (!o.deleteData) t.line(`  keeping ${pvcs.length} PVCs${secretExists ? ` and Secret ${secretName}` : ''}`);
    }
    return ExitCode.ok;
  }

  if (!o.yes) {
    if (!t.interactive) throw usageError(`uninstall needs --yes without a terminal (release ${o.release}, ${where})`, 'add --yes to confirm; --delete-data also deletes the PVCs and the credentials Secret');
    const pr = await t.prompts();
    t.line(`About to uninstall release ${t.style('bold', o.release)} (${st ? `revision ${st.revision}, ${st.status}` : 'not installed; leftovers only'}) from ${where}.`);
    if (o.deleteData) {
      t.line(t.style('red', `--delete-data: ${pvcs.length} PVCs (${pvcs.join(', ') || 'none'}) and Secret ${secretName} will be DELETED: the data is gone for good.`));
      const typed = await pr.input({ message: `type the release name (${o.release}) to delete it and its data` }, t.promptContext);
      if (typed.trim() !== o.release) throw new UserError('not confirmed', { exitCode: ExitCode.aborted });
    } else {
      t.line(`Kept: ${pvcs.length} PVCs and Secret ${secretName} (a reinstall reuses them).`);
      if (!(await pr.confirm({ message: `Uninstall ${o.release} from ${o.namespace} on ${facts.context ?? 'the current context'}?`, default: false }, t.promptContext))) {
        throw new UserError('not confirmed', { exitCode: ExitCode.aborted });
      }
    }
  }

  let uninstalled = false;
  if (st) {
    if (!t.json) t.line(`→ ${formatCommand(argv, helm.path)}`);
    // Uninstall is never interrupted half-way: 'finish' forwards no signal.
    const r = await runHelm(helm.path, argv, { env: t.childEnv, signal: ctx.signal, onAbort: 'finish' });
    if (r.exitCode !== 0) {
      throw new UserError(`helm uninstall failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`, { exitCode: ExitCode.error, hint: `nothing else was deleted; rerun: ${formatCommand(argv, helm.path)}` });
    }
    uninstalled = true;
    if (!t.json) t.ok(`release ${o.release} uninstalled`);
  }

  const deleted: string[] = [];
  const kept: string[] = [];
  if (o.deleteData && !ctx.signal.aborted) {
    if (pvcs.length) {
      const r = await kube.run(['delete', 'pvc', '-n', o.namespace, ...pvcs, `--timeout=${o.timeout}`], { timeoutMs: o.timeoutMs + 30_000 });
      if (r.exitCode !== 0) throw new UserError(`deleting the PVCs failed: ${r.stderr.trim()}`, { exitCode: ExitCode.error, hint: `kubectl delete pvc -n ${o.namespace} ${pvcs.join(' ')}` });
      deleted.push(...pvcs.map((p) => `pvc/${p}`));
    }
    if (secretExists) {
      const r = await kube.run(['delete', 'secret', '-n', o.namespace, secretName, '--ignore-not-found']);
      if (r.exitCode !== 0) throw new UserError(`deleting Secret ${secretName} failed: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
      deleted.push(`secret/${secretName}`);
    }
  } else {
    kept.push(...pvcs.map((p) => `pvc/${p}`), ...(secretExists ? [`secret/${secretName}`] : []));
  }

  if (t.json) {
    t.writeJson({ ok: true, release: o.release, namespace: o.namespace, context: facts.context ?? null, uninstalled, deleted, kept, namespaceKept: true });
  } else {
    if (deleted.length) t.ok(`deleted ${deleted.join(', ')}`);
    if (kept.length) {
      t.line(`Kept: ${kept.join(', ')}`);
      t.line(`  RobustMQ keeps the MQTT user in the Raft data on these volumes; a reinstall of release ${o.release} in ${o.namespace} reuses the data and the same password.`);
      t.line(`  to delete them: robustmq-install uninstall --delete-data${o.release !== 'robustmq' ? ` --release ${o.release}` : ''}${o.namespace !== 'robustmq' ? ` -n ${o.namespace}` : ''}`);
    }
    t.line(`  namespace ${o.namespace} was left in place.`);
  }
  return ctx.signal.aborted ? ExitCode.aborted : ExitCode.ok;
}
