// The default facts detector. src/shell/kube.ts (second CLI engineer) provides the real detection through kubectl;
// until it exports `detectFacts`, this returns "unknown" facts so every command still works offline.
import { unknownFacts, type Facts, type FactsRequest } from '../core/facts.js';

export async function detectFacts(req: FactsRequest): Promise<Facts> {
  if (req.offline) return unknownFacts('no cluster contact (--dry-run/render)');
  return unknownFacts('cluster detection not available yet');
}
