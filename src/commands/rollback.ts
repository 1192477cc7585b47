// Placeholder from the CLI skeleton; owned by the second CLI engineer (see docs/DESIGN.md "CLI internals").
import type { Context } from '../context.js';
import { UserError, ExitCode } from '../core/errors.js';

export async function run(ctx: Context): Promise<number> {
  void ctx;
  throw new UserError('robustmq-install rollback is not implemented yet', { exitCode: ExitCode.error });
}
