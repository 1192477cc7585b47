// Placeholder from the CLI skeleton; owned by the second CLI engineer (see docs/DESIGN.md "CLI internals").
import type { Context } from '../context.js';
import type { Plan } from '../core/plan.js';
import type { Facts } from '../core/facts.js';
import type { Credentials } from '../core/overlay.js';
import type { HelmInfo } from '../shell/helm.js';
import { UserError, ExitCode } from '../core/errors.js';

export interface DeployRequest {
  plan: Plan;
  helm: HelmInfo;
  facts: Facts;
  /** fresh random credentials; used only when the Secret plan.secret.name does not exist yet */
  credentials: Credentials;
  /** upgrade: roll back when health fails (default on); install: ignored (never uninstalls) */
  rollbackOnFailure: boolean;
}

/** Runs plan.helm (install/upgrade) concurrently with the pod watch; returns the exit code (0, 1, 3, 4, 130). */
export async function deploy(ctx: Context, req: DeployRequest): Promise<number> {
  void ctx;
  void req;
  throw new UserError('the deploy flow is not implemented yet', { exitCode: ExitCode.error });
}
