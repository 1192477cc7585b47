// The Raft-safety logic of the chart's scripts, against fake RobustMQ endpoints that answer in the shapes of v0.4.11:
//  - init-config.sh first-boot wait: login with the admin Secret (POST /api/v1/login), then GET /api/info, and start only
//    when the join target leads every shard and the voters before this one have joined;
//  - ready.sh: this node's own Raft metrics over gRPC-web (MetaServiceService/ClusterStatus) on loopback.
// The response shapes follow src/admin-server/src/auth.rs, src/admin-server/src/cluster/mod.rs,
// src/common/metadata-struct/src/meta/status.rs and src/meta-service/src/server/services/common/inner.rs; whether the
// real server answers exactly so is a claim of the source, checked by hand, not here.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { bash, bashAsync, byKind, extractScripts, HELMS, NASTY, render, tempDir } from './lib.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const listen = async (server: Server | ReturnType<typeof createTcpServer>) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
};
const tcpListener = () => listen(createTcpServer((s) => s.destroy()));
const closedPort = async () => {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
};
const body = (req: IncomingMessage) => new Promise<Buffer>((r) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => r(Buffer.concat(chunks)));
});

/** openraft 0.9 RaftMetrics of one shard, as RobustMQ serializes it. */
function shard(id: number, leader: number | null, state: string, configs: number[][]) {
  const ids = [...new Set(configs.flat())];
  return {
    running_state: { Ok: null },
    id,
    current_term: 3,
    vote: { leader_id: { term: 3, node_id: leader ?? 0 }, committed: leader !== null },
    last_log_index: 42,
    last_applied: { leader_id: { term: 3, node_id: leader ?? 0 }, index: 42 },
    snapshot: null,
    purged: null,
    state,
    current_leader: leader,
    millis_since_quorum_ack: leader === id ? 0 : null,
    last_quorum_acked: 0,
    membership_config: {
      log_id: { leader_id: { term: 1, node_id: 1 }, index: 3 },
      membership: { configs, nodes: Object.fromEntries(ids.map((i) => [String(i), { node_id: i, rpc_addr: `rmq-robustmq-meta-${i - 1}:1228` }])) },
    },
    heartbeat: {},
    replication: null,
  };
}
const shards = (f: (name: string) => object) => Object.fromEntries(['metadata_0', 'offset_0', 'data_0'].map((n) => [n, f(n)]));

/** Fake admin API of v0.4.11: login with [admin] username/password, bearer token on /api/*. */
async function fakeAdmin(state: { password: string; meta: () => object }) {
  const calls = { logins: [] as any[], infos: 0, unauthorized: 0 };
  const token = 'eyJhbGciOiJIUzI1NiJ9.e30.sig';
  const server = createHttpServer(async (req, res) => {
    const raw = (await body(req)).toString();
    if (req.method === 'POST' && req.url === '/api/v1/login') {
      const login = JSON.parse(raw); // fails the request (and so the test) when the script's JSON escaping is wrong
      calls.logins.push(login);
      if (login.username === 'admin' && login.password === state.password) {
        res.end(JSON.stringify({ code: 0, data: { token, expires_in: 28800 }, message: 'success' }));
      } else {
        res.statusCode = 401;
        res.end(JSON.stringify({ code: 401, data: null, message: 'Invalid username or password' }));
      }
    } else if (req.method === 'GET' && req.url === '/api/info') {
      if (req.headers.authorization !== `Bearer ${token}`) {
        calls.unauthorized++;
        res.statusCode = 401;
        res.end(JSON.stringify({ code: 401, data: null, message: 'Missing Authorization header' }));
        return;
      }
      calls.infos++;
      const broker = { roles: ['meta'], extend: {}, node_id: 1, node_ip: 'x', grpc_addr: 'x:1228', http_addr: 'x:58080', engine_addr: 'x:1778', start_time: 1, register_time: 1, storage_fold: [] };
      res.end(JSON.stringify({ code: 0, data: { version: '0.4.3', cluster_name: 'rmq-robustmq', start_time: 1, broker_node_list: [broker], meta: state.meta(), nodes: ['x'] }, error: null }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return { port: await listen(server), calls };
}

/** Fake gRPC-web endpoint: the ClusterStatusReply { content: <json> } protobuf in a grpc-web frame. */
/** `delayMs`: how long each answer takes (v0.4.11's ClusterStatus took more than 3 s while a peer restarted). */
async function fakeGrpcWebFor(meta: () => object, opts: { delayMs?: number } = {}) {
  const calls = { n: 0, bad: 0 };
  const server = createHttpServer(async (req, res) => {
    const b = await body(req);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (req.url !== '/meta.service.common.MetaServiceService/ClusterStatus' || req.headers['content-type'] !== 'application/grpc-web+proto' || !b.equals(Buffer.alloc(5))) {
      calls.bad++;
      res.statusCode = 415;
      res.end();
      return;
    }
    calls.n++;
    const json = Buffer.from(JSON.stringify(meta()));
    const varint: number[] = [];
    for (let n = json.length; ; n >>>= 7) {
      if (n < 0x80) { varint.push(n); break; }
      varint.push((n & 0x7f) | 0x80);
    }
    const msg = Buffer.concat([Buffer.from([0x0a, ...varint]), json]);
    const frame = (flag: number, payload: Buffer) => {
      const h = Buffer.alloc(5);
      h[0] = flag;
      h.writeUInt32BE(payload.length, 1);
      return Buffer.concat([h, payload]);
    };
    res.setHeader('content-type', 'application/grpc-web+proto');
    res.end(Buffer.concat([frame(0, msg), frame(0x80, Buffer.from('grpc-status:0\r\ngrpc-message:\r\n'))]));
  });
  return { port: await listen(server), calls };
}


describe.each(HELMS)('helm $major', (helm) => {
  const objs = render(helm, { values: [{ topology: 'split' }] });
  const meta = byKind(objs, 'StatefulSet').find((s) => s.metadata.name === 'rmq-robustmq-meta')!;
  const baseEnv = Object.fromEntries(meta.spec.template.spec.initContainers[0].env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));

  function workdir() {
    const dir = tempDir('rmq-raft-');
    extractScripts(objs, dir);
    mkdirSync(join(dir, 'secrets'));
    for (const [k, v] of Object.entries(NASTY)) writeFileSync(join(dir, 'secrets', k), v);
    mkdirSync(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls/tls.crt'), 'c');
    writeFileSync(join(dir, 'tls/tls.key'), 'k');
    return dir;
  }

  /** The cluster as the fakes present it: per shard leader, the voters, and what each node says about itself. */
  type Cluster = { leaders: (number | null)[]; voters: number[]; self?: Record<number, { leader: number | null; state: string }> };
  const SHARDS = ['metadata_0', 'offset_0', 'data_0'];
  const viewOf = (c: Cluster, id: number) => () =>
    Object.fromEntries(SHARDS.map((n, i) => {
      const own = c.self?.[id];
      const leader = own ? own.leader : c.leaders[i]!;
      return [n, shard(id, leader, own ? own.state : leader === id ? 'Leader' : 'Follower', [c.voters])];
    }));

  async function firstBoot(opts: { ordinal: number; reachable: number[]; cluster: Cluster; timeout?: number; marker?: boolean; rocksdb?: boolean; grace?: number; admin?: { port: number }; noSecret?: boolean }) {
    const dir = workdir();
    const ports: string[] = [];
    // each reachable voter answers gRPC ClusterStatus with its own view
    for (let id = 1; id <= 3; id++) ports.push(`${id}=127.0.0.1:${opts.reachable.includes(id) ? (await fakeGrpcWebFor(viewOf(opts.cluster, id))).port : await closedPort()}`);
    if (opts.marker) {
      mkdirSync(join(dir, 'data/.robustmq-chart'), { recursive: true });
      writeFileSync(join(dir, 'data/.robustmq-chart/raft-member'), '3');
    }
    if (opts.rocksdb) {
      mkdirSync(join(dir, 'data/_rocksdb'), { recursive: true });
      writeFileSync(join(dir, 'data/_rocksdb/CURRENT'), 'x');
    }
    const env: Record<string, string> = {
      ...baseEnv,
      POD_NAME: `rmq-robustmq-meta-${opts.ordinal}`,
      POD_INDEX: String(opts.ordinal),
      RMQ_META_ADDRS: ports.join(' '),
      RMQ_HTTP_PORT: String(opts.admin?.port ?? (await closedPort())),
      RMQ_TEMPLATE: join(dir, 'server.toml.tmpl'),
      RMQ_SECRETS_DIR: join(dir, 'secrets'),
      RMQ_OUT: join(dir, 'out/server.toml'),
      RMQ_DATA_DIR: join(dir, 'data'),
      RMQ_TLS_CERT: join(dir, 'tls/tls.crt'),
      RMQ_TLS_KEY: join(dir, 'tls/tls.key'),
      RMQ_WAIT_POLL_SECONDS: '0.2',
      RMQ_WAIT_LOG_SECONDS: '1',
      RMQ_WAIT_TIMEOUT_SECONDS: String(opts.timeout ?? 3),
      RMQ_BOOTSTRAP_GRACE_SECONDS: String(opts.grace ?? 1),
    };
    if (opts.noSecret) {
      // as run.sh calls it after a container restart: no Secret in the server container, gRPC views only
      return bashAsync(join(dir, 'raft-wait.sh'), { ...env, RMQ_BROKER_ID: String(opts.ordinal + 1) }, 60_000);
    }
    return bashAsync(join(dir, 'init-config.sh'), env, 60_000);
  }

  describe('first boot of a meta node (init-config.sh, raft-wait.sh)', () => {
    const admin = (c: () => Cluster) => fakeAdmin({ password: NASTY['admin-password'], meta: () => viewOf(c(), 1)() });

    it('lets the first voter bootstrap when no other voter answers during the grace period', async () => {
      const a = await admin(() => ({ leaders: [1, 1, 1], voters: [1] }));
      const r = await firstBoot({ ordinal: 0, reachable: [], cluster: { leaders: [1, 1, 1], voters: [1] }, admin: a, grace: 1 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('no other voter answered for 1s and this is the first voter (broker_id 1): the server bootstraps the cluster');
      expect(a.calls.logins).toEqual([]);
    });

    it('starts the second voter once meta-0 leads every shard, after logging in with the admin Secret', async () => {
      const cluster = { leaders: [1, 1, 1], voters: [1] };
      const a = await admin(() => cluster);
      const r = await firstBoot({ ordinal: 1, reachable: [1], cluster, admin: a });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('cluster ready: leader 1, every voter before this one joined; starting, the server joins through 127.0.0.1 (broker_id 1)');
      expect(a.calls.logins[0]).toEqual({ username: 'admin', password: NASTY['admin-password'] });
      expect(a.calls.infos).toBeGreaterThan(0);
      expect(a.calls.unauthorized).toBe(0);
    });

    it('makes the third voter wait until the second has joined, logging progress, then start', async () => {
      const cluster = { leaders: [1, 1, 1], voters: [1] };
      const a = await admin(() => cluster);
      const pending = firstBoot({ ordinal: 2, reachable: [1], cluster, admin: a, timeout: 30 });
      while (a.calls.infos < 3) await new Promise((r) => setTimeout(r, 100));
      cluster.voters = [1, 2];
      const r = await pending;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/broker_id 3, not a voter yet, waiting \d+s: waiting for the voters before this one to join \(missing: 2\)/);
      expect(r.stderr).toContain('cluster ready: leader 1, every voter before this one joined');
    });

    it('never starts while the shards have different leaders (the redirected join would fail on some shard)', async () => {
      const cluster = { leaders: [1, 1, 3], voters: [1, 3] };
      const r = await firstBoot({ ordinal: 1, reachable: [1, 3], cluster, admin: await admin(() => cluster) });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the shards do not share one leader (leaders: 1 3)');
      expect(r.stderr).toContain('gave up after');
    });

    it('joins through a follower when one node leads every shard (v0.4.11 redirects the join to the leader)', async () => {
      const cluster = { leaders: [2, 2, 2], voters: [1, 2] };
      const r = await firstBoot({ ordinal: 2, reachable: [1, 2], cluster, admin: await admin(() => cluster) });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('cluster ready: leader 2, every voter before this one joined; starting, the server joins through 127.0.0.1 (broker_id 1)');
    });

    it('waits while the join target is reachable but not yet a voter (a join through it would exit)', async () => {
      const cluster = { leaders: [2, 2, 2], voters: [2] };
      const r = await firstBoot({ ordinal: 2, reachable: [1, 2], cluster, admin: await admin(() => cluster) });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('join target 127.0.0.1 (broker_id 1) is not a voter yet');
    });

    it('after a cold restart that lost meta-0: ignores the stale leader that names meta-0, waits for the election, then joins', async () => {
      // voters 2 and 3 restarted with data and still name node 1 (their persisted vote); 1 is the empty node itself
      const cluster: Cluster = { leaders: [1, 1, 1], voters: [1, 2, 3] };
      const a = await fakeAdmin({ password: NASTY['admin-password'], meta: () => viewOf(cluster, 2)() });
      const pending = firstBoot({ ordinal: 0, reachable: [2, 3], cluster, admin: a, timeout: 30, grace: 1 });
      while (a.calls.infos < 3) await new Promise((r) => setTimeout(r, 100));
      cluster.leaders = [2, 2, 2]; // the election happened
      const r = await pending;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/the cluster still names this node \(1\) as leader of \w+: stale view after a restart/);
      expect(r.stderr).toContain('broker_id 1 is already a voter of every shard (it lost its data): leaders 2 confirmed; starting, the leaders re-replicate to it');
      expect(r.stderr).not.toContain('bootstraps');
    });

    it('lets a voter that lost its data start when each shard has a confirmed leader, even different ones', async () => {
      const cluster: Cluster = { leaders: [2, 3, 3], voters: [1, 2, 3] };
      const a = await fakeAdmin({ password: NASTY['admin-password'], meta: () => viewOf(cluster, 2)() });
      const r = await firstBoot({ ordinal: 0, reachable: [2, 3], cluster, admin: a });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('broker_id 1 is already a voter of every shard (it lost its data): leaders 2 3 confirmed');
    });

    it('waits until the named leader confirms from its own Raft view', async () => {
      const cluster: Cluster = { leaders: [2, 2, 2], voters: [1, 2], self: { 2: { leader: null, state: 'Candidate' } } };
      const r = await firstBoot({ ordinal: 2, reachable: [1, 2], cluster, admin: await admin(() => ({ leaders: [2, 2, 2], voters: [1, 2] })) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/node 2 does not confirm it leads \w+ \(its state: Candidate\)/);
    });

    it('never bootstraps a second cluster: a later voter that reaches nobody waits', async () => {
      const r = await firstBoot({ ordinal: 1, reachable: [], cluster: { leaders: [1, 1, 1], voters: [1] } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no other voter reachable yet; waiting for 127.0.0.1 (broker_id 1) to bootstrap');
    });

    it('waits, saying why, when the admin login is refused', async () => {
      const cluster = { leaders: [1, 1, 1], voters: [1] };
      const a = await fakeAdmin({ password: 'another-password', meta: () => viewOf(cluster, 1)() });
      const r = await firstBoot({ ordinal: 1, reachable: [1], cluster, admin: a });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('login to 127.0.0.1 refused');
    });

    it('never waits on a restart of a node that has been a voter', async () => {
      const r = await firstBoot({ ordinal: 2, reachable: [], cluster: { leaders: [1, 1, 1], voters: [1] }, marker: true });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('broker_id 3 has been a Raft voter');
    });

    it('checks the cluster when data exists but the node was never seen as a voter (a join that failed half way)', async () => {
      const cluster = { leaders: [1, 1, 1], voters: [1, 2] };
      const r = await firstBoot({ ordinal: 2, reachable: [1, 2], cluster, rocksdb: true, admin: await admin(() => cluster) });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('broker_id 3 has data but was never seen as a voter: checking the cluster before starting');
      expect(r.stderr).toContain('cluster ready: leader 1');
    });

    it('works without the Secret from the join target\'s own gRPC view (server container restart)', async () => {
      const cluster = { leaders: [1, 1, 1], voters: [1, 2] };
      const a = await admin(() => cluster);
      const r = await firstBoot({ ordinal: 2, reachable: [1, 2], cluster, admin: a, noSecret: true });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('cluster ready: leader 1, every voter before this one joined');
      expect(a.calls.logins).toEqual([]);
    });
  });

  describe('server entrypoint (run.sh)', () => {
    async function setupRun(roles = '["meta"]') {
      const dir = workdir();
      const state = join(dir, 'state');
      mkdirSync(state);
      writeFileSync(join(dir, 'server.toml'), `broker_id = 2\nroles = ${roles}\n`);
      const cluster = { leaders: [1, 1, 1], voters: [1] };
      const peer1 = await fakeGrpcWebFor(viewOf(cluster, 1));
      const env: Record<string, string> = {
        RMQ_CONFIG: join(dir, 'server.toml'),
        RMQ_STATE_DIR: state,
        RMQ_SERVER_BIN: join(dir, 'fake-server'),
        RMQ_META_ADDRS: `1=127.0.0.1:${peer1.port} 2=127.0.0.1:${await closedPort()}`,
        RMQ_DATA_DIR: join(dir, 'data'),
        RMQ_WAIT_POLL_SECONDS: '0.2',
        RMQ_WAIT_TIMEOUT_SECONDS: '5',
        RMQ_STARTUP_RETRY_DELAY_SECONDS: '0.1',
      };
      const server = (script: string) => writeFileSync(join(dir, 'fake-server'), `#!/bin/bash\n${script}\n`, { mode: 0o755 });
      return { dir, env, peer1, server };
    }

    it('raises the open-file limit, runs the server, and checks the cluster again before a later start of a non-voter', async () => {
      const { dir, env, peer1, server } = await setupRun();
      server('echo "server started: $*"');
      const first = await bashAsync(join(dir, 'run.sh'), env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain(`server started: --conf=${join(dir, 'server.toml')}`);
      expect(first.stderr).toMatch(/robustmq: open-file limit \d+/);
      expect(peer1.calls.n).toBe(0); // the init container already waited
      // the container restarts before this node was seen as a voter: check again (gRPC views, no Secret)
      const second = await bashAsync(join(dir, 'run.sh'), env);
      expect(second.stderr).toContain('starting again before broker_id 2 was seen as a voter: checking the cluster first');
      expect(second.stderr).toContain('cluster ready: leader 1, every voter before this one joined');
      expect(second.stdout).toContain('server started');
      expect(peer1.calls.n).toBeGreaterThan(0);
      // a node that has been a voter starts without asking anyone
      mkdirSync(join(dir, 'data/.robustmq-chart'), { recursive: true });
      writeFileSync(join(dir, 'data/.robustmq-chart/raft-member'), '2');
      const before = peer1.calls.n;
      const third = await bashAsync(join(dir, 'run.sh'), env);
      expect(third.stderr).not.toContain('checking the cluster first'); // a voter is not "before being seen as a voter"
      expect(third.stdout).toContain('server started');
      expect(peer1.calls.n).toBe(before);
    });

    it('clears the leader confirmation of ready.sh at every server start, retries included', async () => {
      const { dir, env, server } = await setupRun('["broker"]');
      const flag = join(env.RMQ_STATE_DIR!, '.robustmq-leader-confirmed');
      // each start reports whether the previous start's confirmation survived, then confirms and fails once
      server(`[ -f "${flag}" ] && echo "flag kept" || echo "flag cleared"; touch "${flag}"; [ -f "${dir}/failed" ] && exit 0; touch "${dir}/failed"; exit 1`);
      writeFileSync(flag, '');
      const r = await bashAsync(join(dir, 'run.sh'), env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['flag cleared', 'flag cleared']);
    });

    it('ends at once on SIGTERM while it waits for the cluster before a restart', async () => {
      const { dir, env, server } = await setupRun();
      server('echo "server started"');
      // a restart of a non-voter whose peers never answer: the wait would last until the pod is killed
      writeFileSync(join(env.RMQ_STATE_DIR!, '.robustmq-started'), '');
      const { spawn } = await import('node:child_process');
      const p = spawn('bash', [join(dir, 'run.sh')], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, RMQ_META_ADDRS: `1=127.0.0.1:${await closedPort()} 2=127.0.0.1:${await closedPort()}`, RMQ_WAIT_TIMEOUT_SECONDS: '0', RMQ_RESTART_BOOTSTRAP_GRACE_SECONDS: '600' },
      });
      let err = '';
      let out = '';
      p.stderr.on('data', (d) => (err += d));
      p.stdout.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => p.on('close', (c) => r(c)));
      while (!err.includes('checking the cluster first')) await new Promise((r) => setTimeout(r, 50));
      p.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(out).not.toContain('server started');
    });

    it('restarts a server that fails during start-up, and gives its status back otherwise', async () => {
      const { dir, env, server } = await setupRun('["broker", "engine"]');
      // fails twice during start-up (v0.4.11 exits 1 when, e.g., no engine node has registered yet), then runs
      server(`n=$(cat "${dir}/count" 2>/dev/null || echo 0); echo $((n + 1)) > "${dir}/count"; echo "attempt $((n + 1))"; [ "$n" -ge 2 ] || exit 1; exit 0`);
      const r = await bashAsync(join(dir, 'run.sh'), env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['attempt 1', 'attempt 2', 'attempt 3']);
      // the seconds come from the clock (`date +%s`): a run that crosses a second boundary says 1s, not 0s
      expect(r.stderr).toMatch(/server exited with 1 after [01]s, during start-up; restarting in 0\.1s \(attempt 2 of 30\)/);
      expect(r.stderr).not.toContain('checking the cluster'); // not a meta node
      // beyond the start-up window, or after the retries, the container ends with the server's status
      server('exit 7');
      const gaveUp = await bashAsync(join(dir, 'run.sh'), { ...env, RMQ_STARTUP_RETRIES: '1' });
      expect(gaveUp.code).toBe(7);
      expect(gaveUp.stderr).toMatch(/server exited with 7 after [01]s/);
    });

    it('forwards SIGTERM to the server and exits with its status', async () => {
      const { dir, env, server } = await setupRun('["broker", "engine"]');
      server(`trap 'echo "server got TERM"; exit 0' TERM; echo ready > "${dir}/up"; while :; do sleep 0.1; done`);
      const { spawn } = await import('node:child_process');
      const p = spawn('bash', [join(dir, 'run.sh')], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => p.on('close', (c) => r(c)));
      const { existsSync } = await import('node:fs');
      while (!existsSync(join(dir, 'up'))) await new Promise((r) => setTimeout(r, 50));
      p.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('server got TERM');
    });

    it("gives the server's own status when the server was gone before the trap returned (wait_child)", async () => {
      const dir = workdir();
      // run.sh's trap, plus a 0.3 s pause standing for a bash that is descheduled right after forwarding SIGTERM:
      // the server stops at once, and bash reaps it before it looks again. That is the race the node suite's
      // uninstall once lost (exit 143 for a clean stop); the pause makes it happen every time.
      const driver = (waitFn: string) => `
        cd "${dir}"
        source ./lib.sh
        child=''
        trap '[ -n "$child" ] && kill -TERM "$child"; sleep 0.3' TERM
        bash -c 'sleep 100 & s=$!; trap "kill $s; exit 0" TERM; : > up; wait' &
        child=$!
        (while [ ! -f up ]; do sleep 0.02; done; kill -TERM $$) &
        ${waitFn}
        echo "rc=$rc"`;
      writeFileSync(join(dir, 'with-lib.sh'), driver('wait_child'));
      // the loop run.sh had before wait_child: proves the driver really loses the status without the last wait
      writeFileSync(join(dir, 'loop-only.sh'), driver('while :; do wait "$child"; rc=$?; kill -0 "$child" 2>/dev/null || break; done'));
      const fixed = await bashAsync(join(dir, 'with-lib.sh'), {});
      expect(fixed.stdout.trim(), fixed.stderr).toBe('rc=0');
      rmSync(join(dir, 'up'));
      const old = await bashAsync(join(dir, 'loop-only.sh'), {});
      expect(old.stdout.trim(), old.stderr).toBe('rc=143');
    });
  });

  describe('meta readiness (ready.sh)', () => {
    /** `leaders`: the gRPC port where each other voter answers (RMQ_META_ADDRS); `dir`: reuse a pod's dirs (same emptyDir). */
    function ready(grpcPort: number, opts: { id?: number; roles?: string; mqttPort?: number; leaders?: Record<number, number>; dir?: string; probeTimeout?: number } = {}) {
      const dir = opts.dir ?? workdir();
      writeFileSync(join(dir, 'server.toml'), `cluster_name = "x"\nbroker_id = ${opts.id ?? 2}\nbroker_ip = "x"\nroles = ${opts.roles ?? '["meta"]'}\n`);
      const metaAddrs = Object.entries(opts.leaders ?? {}).map(([id, port]) => `${id}=127.0.0.1:${port}`).join(' ');
      return bashAsync(join(dir, 'ready.sh'), {
        RMQ_CONFIG: join(dir, 'server.toml'),
        RMQ_DATA_DIR: join(dir, 'data'),
        RMQ_STATE_DIR: dir,
        RMQ_GRPC_PORT: String(grpcPort),
        RMQ_META_ADDRS: metaAddrs,
        ...(opts.mqttPort ? { RMQ_MQTT_PORT: String(opts.mqttPort) } : {}),
        ...(opts.probeTimeout ? { RMQ_READY_TIMEOUT_SECONDS: String(opts.probeTimeout) } : {}),
      }).then((r) => ({ ...r, dir }));
    }
    const leaderOne = () => fakeGrpcWebFor(() => shards(() => shard(1, 1, 'Leader', [[1, 2, 3]])));

    it('is ready when this node is a voter and every shard has a leader, and remembers it on the data volume', async () => {
      const g = await fakeGrpcWebFor(() => shards(() => shard(2, 1, 'Follower', [[1, 2, 3]])));
      const leader = await leaderOne();
      const r = await ready(g.port, { leaders: { 1: leader.port } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(g.calls).toEqual({ n: 1, bad: 0 });
      expect(readFileSync(join(r.dir, 'data/.robustmq-chart/raft-member'), 'utf8')).toBe('2\n');
    });

    it.each([
      ['a shard without leader', () => shards((n) => shard(2, n === 'offset_0' ? null : 1, n === 'offset_0' ? 'Candidate' : 'Follower', [[1, 2, 3]])), 'a shard has no leader'],
      ['a learner (joined, not yet promoted)', () => shards(() => shard(2, 1, 'Learner', [[1, 3]])), 'a shard is Learner'],
      ['a node that is not a voter', () => shards(() => shard(2, 1, 'Follower', [[1, 3]])), 'broker_id 2 is not a voter of [[1,3]]'],
      ['a joint membership change in progress', () => shards(() => shard(2, 1, 'Follower', [[1, 3], [1, 2, 3]])), 'is not a voter of [[1,3],[1,2,3]]'],
      ['no Raft shard yet', () => ({}), 'no Raft shard in ClusterStatus'],
    ])('is not ready with %s', async (_n, meta, reason) => {
      const g = await fakeGrpcWebFor(meta);
      const r = await ready(g.port);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(reason);
    });

    it('after a (re)start, is Ready only once the named leader answers that it leads; after that, not again', async () => {
      let leaderState = 'Leader';
      const g = await fakeGrpcWebFor(() => shards(() => shard(2, 1, 'Follower', [[1, 2, 3]])));
      const leader = await fakeGrpcWebFor(() => shards(() => shard(1, 1, leaderState, [[1, 2, 3]])));
      // the stale window: the survivors still name node 1, which does not answer
      const dead = await ready(g.port, { leaders: { 1: await closedPort() } });
      expect(dead.code).toBe(1);
      expect(dead.stdout).toContain('leader 1 (127.0.0.1:');
      expect(dead.stdout).toContain('does not answer');
      // node 1 answers but is no longer leader (an election is running)
      leaderState = 'Candidate';
      const stale = await ready(g.port, { leaders: { 1: leader.port }, dir: dead.dir });
      expect(stale.code).toBe(1);
      expect(stale.stdout).toContain('node 1 does not confirm it leads metadata_0 (its state: Candidate)');
      leaderState = 'Leader';
      const ok = await ready(g.port, { leaders: { 1: leader.port }, dir: dead.dir });
      expect(ok.code, ok.stdout).toBe(0);
      expect(leader.calls.n).toBe(2); // one call per leader, not per shard
      // confirmed for this server start: a leader that stops answering no longer turns this pod not-Ready
      const later = await ready(g.port, { leaders: { 1: await closedPort() }, dir: dead.dir });
      expect(later.code, later.stdout).toBe(0);
    });

    it('once confirmed, stays Ready through an election (Candidate, no leader) but not when this node stops being a voter', async () => {
      let own = shards(() => shard(2, 1, 'Follower', [[1, 2, 3]]));
      const g = await fakeGrpcWebFor(() => own);
      const leader = await leaderOne();
      const first = await ready(g.port, { leaders: { 1: leader.port } });
      expect(first.code, first.stdout).toBe(0);
      // the leader died and this survivor stands: the cluster has no leader, this pod is still a voter that answers
      own = shards(() => shard(2, null, 'Candidate', [[1, 2, 3]]));
      const electing = await ready(g.port, { dir: first.dir });
      expect(electing.code, electing.stdout).toBe(0);
      own = shards(() => shard(2, 1, 'Learner', [[1, 3]]));
      const learner = await ready(g.port, { dir: first.dir });
      expect(learner.code).toBe(1);
      expect(learner.stdout).toContain('a shard is Learner');
      // a new server start clears the confirmation (run.sh): an election then keeps the pod not-Ready again
      rmSync(join(first.dir, '.robustmq-leader-confirmed'));
      own = shards(() => shard(2, null, 'Candidate', [[1, 2, 3]]));
      const restarted = await ready(g.port, { dir: first.dir });
      expect(restarted.code).toBe(1);
      expect(restarted.stdout).toContain('a shard has no leader');
    });

    it('is not ready while it names itself leader without being one (stale view after its own restart)', async () => {
      const g = await fakeGrpcWebFor(() => shards(() => shard(2, 2, 'Follower', [[1, 2, 3]])));
      const r = await ready(g.port);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('names itself leader of metadata_0 but is Follower');
    });

    it("gives its own ClusterStatus and the leader's the probe's time, not a fixed 3 s and 2 s (slow answers of v0.4.11 during a rolling restart)", async () => {
      const g = await fakeGrpcWebFor(() => shards(() => shard(2, 1, 'Follower', [[1, 2, 3]])), { delayMs: 4_000 });
      const leader = await fakeGrpcWebFor(() => shards(() => shard(1, 1, 'Leader', [[1, 2, 3]])), { delayMs: 3_000 });
      // the chart's default probes.readiness.timeoutSeconds (20), as rendered into RMQ_READY_TIMEOUT_SECONDS
      const r = await ready(g.port, { leaders: { 1: leader.port }, probeTimeout: 20 });
      expect(r.code, r.stdout).toBe(0);
      expect([g.calls.n, leader.calls.n]).toEqual([1, 1]);
    });

    it("never outlasts the probe: a silent gRPC port gets the probe's timeoutSeconds less 2 s, less 2 s more on combined pods", async () => {
      // accepts, never answers; its connections are destroyed before it closes (close waits for them)
      const held: import('node:net').Socket[] = [];
      const server = createTcpServer((sock) => held.push(sock));
      const silent = await listen(server);
      closers.push(async () => held.forEach((sock) => sock.destroy()));
      // the budget less what the script used before the call, counted in milliseconds: with whole seconds ($SECONDS)
      // a second boundary crossed before the call took a whole second off (CI saw 2001 ms where 3 s were due)
      const timedOutAfter = (out: string) => Number(/^not ready: ClusterStatus on 127\.0\.0\.1:\d+: curl: \(28\) Operation timed out after (\d+) milliseconds/.exec(out)?.[1]);
      const meta = await ready(silent, { probeTimeout: 7 });
      expect(meta.code).toBe(1);
      expect(timedOutAfter(meta.stdout), meta.stdout).toBeGreaterThan(4400);
      expect(timedOutAfter(meta.stdout)).toBeLessThanOrEqual(5100);
      const combined = await ready(silent, { probeTimeout: 7, roles: '["meta", "broker", "engine"]', mqttPort: await tcpListener() });
      expect(combined.code).toBe(1);
      expect(timedOutAfter(combined.stdout), combined.stdout).toBeGreaterThan(2400);
      expect(timedOutAfter(combined.stdout)).toBeLessThanOrEqual(3100);
      // a budget too small for any call fails with the reason, not with a kubelet-side timeout
      const tiny = await ready(silent, { probeTimeout: 3, roles: '["meta", "broker", "engine"]', mqttPort: await tcpListener() });
      expect(tiny.code).toBe(1);
      expect(tiny.stdout).toContain("no time left for ClusterStatus on 127.0.0.1:");
      expect(tiny.stdout).toContain("within the probe's 3s (probes.readiness.timeoutSeconds)");
    });

    it('is not ready when the gRPC port does not answer', async () => {
      const r = await ready(await closedPort());
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('not ready: ClusterStatus on 127.0.0.1');
    });

    it('also needs the MQTT port on combined pods, and skips the Raft check on pods without the meta role', async () => {
      const g = await fakeGrpcWebFor(() => shards(() => shard(2, 1, 'Follower', [[1, 2, 3]])));
      const leader = await leaderOne();
      const mqtt = await tcpListener();
      expect((await ready(g.port, { roles: '["meta", "broker", "engine"]', mqttPort: mqtt, leaders: { 1: leader.port } })).code).toBe(0);
      const closed = await ready(g.port, { roles: '["meta", "broker", "engine"]', mqttPort: await closedPort(), leaders: { 1: leader.port } });
      expect(closed.code).toBe(1);
      expect(closed.stdout).toContain('MQTT port');
      const before = g.calls.n;
      expect((await ready(g.port, { id: 4, roles: '["broker", "engine"]', mqttPort: mqtt })).code).toBe(0);
      expect(g.calls.n).toBe(before);
    });
  });

  describe('status.sh (runbooks)', () => {
    it("prints this node's view of every shard", async () => {
      const g = await fakeGrpcWebFor(() => shards((n) => shard(2, n === 'data_0' ? 3 : 1, 'Follower', [[1, 2, 3]])));
      const dir = workdir();
      writeFileSync(join(dir, 'server.toml'), 'broker_id = 2\nroles = ["meta"]\n');
      const r = await bashAsync(join(dir, 'status.sh'), { RMQ_CONFIG: join(dir, 'server.toml'), RMQ_GRPC_PORT: String(g.port) });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual([
        'broker_id=2 shard=metadata_0 state=Follower leader=1 term=3 voters=[[1,2,3]]',
        'broker_id=2 shard=offset_0 state=Follower leader=1 term=3 voters=[[1,2,3]]',
        'broker_id=2 shard=data_0 state=Follower leader=3 term=3 voters=[[1,2,3]]',
      ]);
    });
  });

  describe('escaping (lib.sh esc)', () => {
    it('produces strings that TOML and JSON both read back byte for byte', () => {
      const dir = workdir();
      const samples = [...Object.values(NASTY), '', 'plain', '\u0008\u000c\u001b\u001f', 'tab\there', 'x'.repeat(300)];
      for (const s of samples) {
        writeFileSync(join(dir, 'in'), s);
        writeFileSync(join(dir, 'esc.sh'), `source "${join(dir, 'lib.sh')}"; v=$(cat "${join(dir, 'in')}"; printf x); v=\${v%x}; esc "$v"`);
        const r = bash(join(dir, 'esc.sh'), {});
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(`"${r.stdout}"`)).toBe(s);
        expect((parseToml(`k = "${r.stdout}"`) as any).k).toBe(s);
      }
    });
  });
});
