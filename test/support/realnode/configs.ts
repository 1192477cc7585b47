// The configuration files of the real node's components, as text. Paths and addresses come from realnode.ts;
// nothing here touches the machine.
import { stringify } from 'yaml';

export interface NodeLayout {
  dir: string;
  nodeName: string;
  nodeIP: string;
  podSubnet: string;
  podGateway: string;
  clusterCIDR: string;
  serviceCIDR: string;
  dnsIP: string;
  cgroupRoot: string;
  cniBinDir: string;
  runc: string;
  shim: string;
  pauseImage: string;
}

export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

/** containerd 2.x, config version 3. */
export function containerdConfig(l: NodeLayout): string {
  const q = (s: string) => `'${s}'`;
  return `# containerd of the real test node (written by test/support/realnode.ts)
version = 3
root = ${q(`${l.dir}/containerd/root`)}
# /run is a tmpfs of the node's mount namespace: sockets, runc state and netns mounts vanish with it.
state = '/run/containerd'

[grpc]
  address = ${q(CONTAINERD_SOCKET)}

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      # Imported from a local archive, never pulled; pinned so that nothing garbage-collects it.
      sandbox = ${q(l.pauseImage)}
    [plugins.'io.containerd.cri.v1.images'.registry]
      # Every registry host resolves to a closed loopback port (see certs.d/_default/hosts.toml): an image that
      # is not imported fails at once with ErrImagePull instead of reaching for the network.
      config_path = ${q(`${l.dir}/containerd/certs.d`)}

  [plugins.'io.containerd.transfer.v1.local']
    config_path = ${q(`${l.dir}/containerd/certs.d`)}

  [plugins.'io.containerd.cri.v1.runtime']
    # Keep OOM scores >= containerd's own: the kubelet asks for negative ones (-998 for the pause container), which
    # needs CAP_SYS_RESOURCE, and some machines (firecracker VMs here) withhold it even from root: runc then fails
    # every sandbox with "can't get final child's PID from pipe".
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        runtime_path = ${q(l.shim)}
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = ${q(l.runc)}
          # No systemd on these machines; the kubelet uses the cgroupfs driver too.
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = [${q(l.cniBinDir)}]
      conf_dir = ${q(`${l.dir}/cni/net.d`)}

  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'
`;
}

export function registryHostsToml(): string {
  return `# No registry is reachable from the test node, by design: every pull goes to a closed loopback port.
server = "https://127.0.0.1:9"
`;
}

/** bridge + host-local + portmap; containerd brings up lo itself. */
export function cniConflist(l: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'robustmq-realnode',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          // No masquerade: there is no outside to masquerade to (the node's namespace has no default route).
          ipMasq: false,
          // A pod reaching itself through its own Service (kube-proxy DNAT back out of the same bridge port).
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: l.podSubnet, gateway: l.podGateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: `${l.dir}/cni/ipam`,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(l: NodeLayout): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: l.nodeIP,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    // No systemd; cgroup v1 controllers on these hosts, which v1.35+ refuses unless told otherwise.
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    // One subtree per node, so teardown removes exactly what this node made.
    cgroupRoot: l.cgroupRoot,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: `${l.dir}/pki/ca.crt` },
    },
    authorization: { mode: 'Webhook' },
    // A serving cert signed by the cluster CA, so the apiserver can verify the kubelet for logs/exec/port-forward.
    tlsCertFile: `${l.dir}/pki/kubelet-serving.crt`,
    tlsPrivateKeyFile: `${l.dir}/pki/kubelet-serving.key`,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    clusterDNS: [l.dnsIP],
    clusterDomain: 'cluster.local',
    resolvConf: `${l.dir}/resolv.conf`,
    // The test machine's disk may be fuller than a node's defaults allow; evicting the suite's pods, or garbage
    // collecting the imported images (which can never be pulled again), would fail tests for nothing.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%', 'imagefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    maxPods: 110,
    serializeImagePulls: false,
  });
}

export function kubeProxyConfig(l: NodeLayout): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: `${l.dir}/kube-proxy.kubeconfig` },
    mode: 'iptables',
    clusterCIDR: l.clusterCIDR,
    hostnameOverride: l.nodeName,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // Leave the conntrack sysctls alone: nf_conntrack_max is not per network namespace.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  });
}

/** No forward plugin: nothing outside the cluster resolves, because nothing outside is reachable. */
export function corefile(l: NodeLayout): string {
  return `.:53 {
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${l.dir}/coredns.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
}
`;
}

/** nft table in the node's network namespace: pods may not start connections out through the host veth. */
export function guardRuleset(): string {
  // The host end of the veth has an address (so the host reaches the apiserver); a pod connecting to it would get
  // its answer routed by the host, which has no route back to pod addresses, out of the host's default route.
  return `table inet robustmq_realnode_guard {
  chain forward {
    type filter hook forward priority -10; policy accept;
    ct state established,related accept
    oifname "eth0" drop
  }
}
`;
}
