// The namespace and the credentials Secret a release needs before helm runs, and the redactor built from that Secret
// (everything the CLI prints or writes passes through it).
import type { Context } from '../context.js';
import { ExitCode, UserError } from '../core/errors.js';
import type { K8sObject } from '../core/k8s-types.js';
import { credentialsSecretManifest, CREDENTIAL_KEYS, type Credentials } from '../core/overlay.js';
import type { Plan } from '../core/plan.js';
import { decodeSecretData, makeRedactor, type Redactor } from '../core/redact.js';
import { getPath } from '../core/values.js';
import type { Kube } from '../shell/kube.js';

export async function ensureNamespace(ctx: Context, kube: Kube, namespace: string): Promise<'created' | 'exists'> {
  if (await kube.getObject('namespace', namespace)) return 'exists';
  const r = await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  if (r.exitCode !== 0 && !/AlreadyExists/.test(r.stderr)) {
    throw new UserError(`could not create namespace ${namespace}: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
  }
  return r.exitCode === 0 ? 'created' : 'exists';
}

/**
 * The credentials Secret `<release>-credentials` (admin-password, admin-jwt-secret, mqtt-password): created with
 * random values when absent, reused when present (a reinstall must keep the MQTT user's password), completed when a
 * key is missing. Values travel in a request body (or kubectl's stdin), never in argv, and are never printed.
 * A user-named `auth.existingSecret` must already exist with all three keys.
 */
export async function ensureCredentials(ctx: Context, kube: Kube, plan: Plan, creds: Credentials): Promise<{ name: string; action: 'created' | 'reused' | 'completed' | 'user' }> {
  const ns = plan.namespace;
  const wanted = getPath(plan.overlay, 'auth.existingSecret');
  const name = typeof wanted === 'string' && wanted ? wanted : plan.secret.name;
  const existing = await kube.getObject<K8sObject & { data?: Record<string, string> }>('secret', name, ns);
  const missing = CREDENTIAL_KEYS.filter((k) => !existing?.data?.[k]);
  if (name !== plan.secret.name) {
    if (!existing) throw new UserError(`auth.existingSecret ${name} does not exist in namespace ${ns}`, { exitCode: ExitCode.preflight, hint: `create it with keys ${CREDENTIAL_KEYS.join(', ')}, or drop auth.existingSecret so the CLI creates ${plan.secret.name}` });
    if (missing.length) throw new UserError(`Secret ${name} lacks key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, { exitCode: ExitCode.preflight, hint: `add ${missing.join(', ')} to Secret ${name}` });
    return { name, action: 'user' };
  }
  if (!existing) {
    const manifest = credentialsSecretManifest(plan.release, ns, creds);
    const r = await kube.create(manifest);
    if (r.exitCode !== 0) throw new UserError(`could not create Secret ${name}: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
    return { name, action: 'created' };
  }
  if (missing.length) {
    const patch = { data: Object.fromEntries(missing.map((k) => [k, Buffer.from(creds[k]).toString('base64')])) };
    const r = await kube.mergePatch('secret', name, ns, patch);
    if (r.exitCode !== 0) throw new UserError(`could not add ${missing.join(', ')} to Secret ${name}: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
    return { name, action: 'completed' };
  }
  return { name, action: 'reused' };
}

/** A redactor built from the credentials Secret's actual values (plus any values we hold in memory). */
export async function redactorFor(kube: Kube, namespace: string, secretName: string, extra: Record<string, string> = {}): Promise<Redactor> {
  let values: Record<string, string> = {};
  try {
    const s = await kube.getObject<K8sObject & { data?: Record<string, string> }>('secret', secretName, namespace);
    values = decodeSecretData(s?.data);
  } catch {
    // no read access: redact what we know
  }
  return makeRedactor({ ...extra, ...values });
}
