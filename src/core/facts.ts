// What the CLI knows about the cluster. Gathered by a detector (src/shell/facts.ts → kube.ts) and injected into
// the wizard and the planner, which stay pure. Every field but `reachable` and `crds` may be unknown.

export interface StorageClassFact {
  name: string;
  isDefault: boolean;
  provisioner?: string;
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  allowVolumeExpansion?: boolean;
}

export interface IngressClassFact {
  name: string;
  isDefault: boolean;
  controller?: string;
}

export interface ReleaseFact {
  revision: number;
  /** helm status: deployed, failed, pending-install, pending-upgrade, pending-rollback, superseded, uninstalling */
  status: string;
  chartVersion?: string;
  appVersion?: string;
  /** helm 4: how the release was applied (from `helm get metadata`) */
  applyMethod?: 'server-side' | 'client-side';
}

export interface Facts {
  /** false: the API server could not be reached (or was not asked: --dry-run, render) */
  reachable: boolean;
  /** why not reachable / not asked, for messages */
  unreachableReason?: string;
  /** kubeconfig context in use and its API server URL (read from kubeconfig; known even when unreachable) */
  context?: string;
  server?: string;
  /** e.g. "v1.36.0" */
  kubeVersion?: string;
  storageClasses?: StorageClassFact[];
  ingressClasses?: IngressClassFact[];
  /** undefined = unknown (not asked) */
  crds: { serviceMonitor?: boolean; prometheusRule?: boolean; certManager?: boolean; gatewayHttpRoute?: boolean };
  /** the release in the target namespace, if any */
  existingRelease?: ReleaseFact;
  /** the credentials Secret <release>-credentials already exists (reinstall keeps it) */
  credentialsSecretExists?: boolean;
  /** whether the namespace exists */
  namespaceExists?: boolean;
}

export interface FactsRequest {
  namespace: string;
  release: string;
  kubeContext?: string;
  kubeconfig?: string;
  /** kubectl binary (default "kubectl") */
  kubectl?: string;
  /** helm binary, for the release state (default "helm") */
  helm?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** true: read the kubeconfig only (context, server), never contact the API server (--dry-run, render) */
  offline?: boolean;
}

export type FactsDetector = (req: FactsRequest) => Promise<Facts>;

/** Facts when nothing was detected. */
export function unknownFacts(reason: string, partial: Partial<Facts> = {}): Facts {
  return { reachable: false, unreachableReason: reason, crds: {}, ...partial };
}

export function defaultStorageClass(f: Facts): string | undefined {
  return f.storageClasses?.find((s) => s.isDefault)?.name;
}
export function defaultIngressClass(f: Facts): string | undefined {
  return f.ingressClasses?.find((s) => s.isDefault)?.name;
}
