// The per-pod config: the init script and the server.toml template are taken out of the rendered manifests and run in
// bash for every ordinal of every role, combined and split, at 1, 3 and 5 replicas. Each result is parsed with a TOML
// parser and checked against the fixture of RobustMQ v0.4.11's config structs.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { bash, byKind, extractScripts, FIXTURE, HELMS, type K8sObject, NASTY, render, tempDir } from './lib.ts';


const OPTIONAL = ['llm_client', 'delay_task'];
const DOMAIN = 'cluster.local';

function writeSecrets(dir: string, secrets: Record<string, string> = NASTY) {
  mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(secrets)) writeFileSync(join(dir, k), v + '\n');
}

function envOf(container: any): Record<string, string> {
  return Object.fromEntries(container.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, String(e.value)]));
}

/** Renders server.toml for every pod of every StatefulSet of a render; returns pod -> parsed TOML and raw text. */
function renderAllPods(objs: K8sObject[], opts: { podIndexLabel?: boolean } = {}) {
  const dir = tempDir('rmq-init-');
  extractScripts(objs, dir);
  writeSecrets(join(dir, 'secrets'));
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'tls/tls.crt'), 'cert');
  writeFileSync(join(dir, 'tls/tls.key'), 'key');
  const pods: { pod: string; role: string; ordinal: number; toml: any; text: string; log: string }[] = [];
  for (const sts of byKind(objs, 'StatefulSet')) {
    const role = sts.metadata.labels['app.kubernetes.io/component'];
    const init = sts.spec.template.spec.initContainers.find((c: any) => c.name === 'config');
    for (let i = 0; i < sts.spec.replicas; i++) {
      const pod = `${sts.metadata.name}-${i}`;
      const data = join(dir, 'data', pod);
      mkdirSync(join(data, '.robustmq-chart'), { recursive: true });
      writeFileSync(join(data, '.robustmq-chart', 'raft-member'), '1\n'); // a restart of a voter: no first-boot wait here
      const out = join(dir, 'out', pod, 'server.toml');
      const r = bash(join(dir, 'init-config.sh'), {
        ...envOf(init),
        POD_NAME: pod,
        POD_INDEX: opts.podIndexLabel === false ? '' : String(i),
        RMQ_TEMPLATE: join(dir, 'server.toml.tmpl'),
        RMQ_SECRETS_DIR: join(dir, 'secrets'),
        RMQ_OUT: out,
        RMQ_DATA_DIR: data,
        RMQ_ENGINE_DATA_DIR: '/robustmq/data/engine',
        RMQ_TLS_CERT: join(dir, 'tls/tls.crt'),
        RMQ_TLS_KEY: join(dir, 'tls/tls.key'),
      });
      expect(r.code, `${pod}: ${r.stderr}`).toBe(0);
      const text = readFileSync(out, 'utf8');
      pods.push({ pod, role, ordinal: i, toml: parseToml(text), text, log: r.stderr });
    }
  }
  return pods;
}

/** Every table path and leaf key of a parsed TOML document. */
function walk(obj: any, path: string[] = [], tables: string[][] = [], leaves: string[][] = []) {
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(path.length === 0 && k === 'meta_addrs')) {
      tables.push([...path, k]);
      walk(v, [...path, k], tables, leaves);
    } else leaves.push([...path, k]);
  }
  return { tables, leaves };
}

function checkType(rust: string, value: any, key: string) {
  const int = (max?: number) => {
    expect(Number.isInteger(value), `${key} should be an integer, got ${value}`).toBe(true);
    expect(value).toBeGreaterThanOrEqual(0);
    if (max) expect(value).toBeLessThanOrEqual(max);
  };
  if (rust === 'u16') int(65535);
  else if (rust === 'u32') int(4294967295);
  else if (rust === 'u64' || rust === 'usize') int();
  else if (rust === 'bool') expect(typeof value, key).toBe('boolean');
  else if (rust === 'f32') expect(typeof value, key).toBe('number');
  else if (rust === 'String' || rust === 'Option<String>') expect(typeof value, key).toBe('string');
  else if (rust === 'Vec<String>') expect(Array.isArray(value) && value.every((x: any) => typeof x === 'string'), key).toBe(true);
  else if (FIXTURE.enums[key]) expect(FIXTURE.enums[key].values, key).toContain(value);
}

const CASES: { name: string; values: object; voters: number; roles: Record<string, number>; withEngine?: boolean }[] = [
  ...[1, 3, 5].map((n) => ({ name: `combined x${n}`, values: { topology: 'combined', combined: { replicaCount: n, metaReplicas: n } }, voters: n, roles: { combined: n } })),
  { name: 'combined x4, 3 voters', values: { topology: 'combined', combined: { replicaCount: 4, metaReplicas: 3 } }, voters: 3, roles: { combined: 4 } },
  ...[1, 3, 5].map((n) => ({
    name: `split ${n}/${n}/${n}`,
    values: { topology: 'split', meta: { replicaCount: n }, broker: { replicaCount: n }, engine: { replicaCount: n } },
    voters: n,
    roles: { meta: n, broker: n, engine: n },
  })),
  {
    name: 'split 3/3/3 with role-pure meta and broker pods',
    values: { topology: 'split', meta: { withEngine: false }, broker: { withEngine: false } },
    voters: 3,
    roles: { meta: 3, broker: 3, engine: 3 },
    withEngine: false,
  },
];

const BASE: Record<string, number> = { combined: 1, meta: 1, broker: 1001, engine: 2001 };

describe.each(HELMS)('helm $major', (helm) => {
  describe.each(CASES)('$name', ({ values, voters, roles, withEngine = true }) => {
    it('renders a valid, complete server.toml for every pod', () => {
      const objs = render(helm, { values: [values] });
      const pods = renderAllPods(objs);
      expect(pods).toHaveLength(Object.values(roles).reduce((a, b) => a + b, 0));

      // the template itself is valid TOML and holds no secret
      const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'rmq-robustmq-config')!;
      expect(() => parseToml(cm.data['server.toml.tmpl'])).not.toThrow();
      for (const o of byKind(objs, 'ConfigMap')) for (const s of Object.values(NASTY)) expect(JSON.stringify(o.data)).not.toContain(s);

      const ids = pods.map((p) => p.toml.broker_id);
      expect(new Set(ids).size, `broker_ids ${ids}`).toBe(ids.length);

      const metaRole = roles.meta ? 'meta' : 'combined';
      const metaSts = metaRole === 'meta' ? 'rmq-robustmq-meta' : 'rmq-robustmq';
      const expectedAddrs = Object.fromEntries(Array.from({ length: voters }, (_, i) => [String(i + 1), `${metaSts}-${i}.${metaSts}-headless.mq.svc.${DOMAIN}:1228`]));

      for (const p of pods) {
        const t = p.toml;
        const where = p.pod;
        // every key is a real field of RobustMQ's config structs (fixture from the v0.4.11 source)
        const { tables, leaves } = walk(t);
        for (const tbl of tables) expect(FIXTURE.sectionKeys, `${where}: [${tbl.join('.')}]`).toContain(tbl.join('.'));
        for (const leaf of leaves) {
          const section = leaf.slice(0, -1).join('.');
          const key = leaf.at(-1)!;
          const known = section === '' ? Object.keys(FIXTURE.topLevel) : Object.keys(FIXTURE.sections[section]);
          expect(known, `${where}: ${leaf.join('.')}`).toContain(key);
          const full = leaf.join('.');
          if (FIXTURE.types[full]) checkType(FIXTURE.types[full], leaf.reduce((o: any, k) => o[k], t), full);
        }
        // every section emitted is emitted whole, and every section but the optional ones is emitted
        const emitted = tables.map((x) => x.join('.'));
        for (const s of emitted) for (const k of Object.keys(FIXTURE.sections[s])) expect(s.split('.').reduce((o: any, x) => o[x], t), `${where}: [${s}] lacks ${k}`).toHaveProperty([k]);
        expect(emitted.sort()).toEqual(FIXTURE.sectionKeys.filter((s: string) => !OPTIONAL.includes(s.split('.')[0]!)).sort());
        for (const k of Object.keys(FIXTURE.topLevel)) expect(t, `${where}: top-level ${k}`).toHaveProperty([k]);
        // values that differ between "section missing" and "key missing" keep the server's own defaults
        expect(t.storage_runtime.tcp_port).toBe(1778);
        expect(t.broker_network.queue_size).toBe(5000);
        expect(t.runtime.default_topic_partition_num).toBe(3);

        // identity
        expect(t.broker_id).toBe(BASE[p.role]! + p.ordinal);
        expect(t.broker_ip).toBe(`${p.pod}.${p.pod.replace(/-\d+$/, '')}-headless.mq.svc.${DOMAIN}`);
        const isMeta = p.role === 'meta' || (p.role === 'combined' && p.ordinal < voters);
        // v0.4.11 needs the engine role on every node (README): meta and broker pods carry it unless withEngine=false
        const isEngine = p.role === 'engine' || p.role === 'combined' || (p.role !== 'meta' && p.role !== 'broker' ? false : withEngine);
        const expectedRoles = p.role === 'combined' ? [...(isMeta ? ['meta'] : []), 'broker', 'engine'] : p.role === 'engine' ? ['engine'] : withEngine ? [p.role, 'engine'] : [p.role];
        expect(t.roles).toEqual(expectedRoles);
        expect(t.storage_runtime.data_path).toEqual(isEngine ? ['/robustmq/data/engine'] : []);
        // meta_addrs: the same on every pod, every voter's stable FQDN, written in the server's (string) order
        expect(t.meta_addrs).toEqual(expectedAddrs);
        const fileOrder = [...p.text.match(/^meta_addrs = \{(.*)\}$/m)![1]!.matchAll(/"(\d+)" =/g)].map((m) => m[1]);
        expect(fileOrder).toEqual([...fileOrder].sort());
        if (isMeta) expect(Object.keys(t.meta_addrs)).toContain(String(t.broker_id));
        // paths the chart mounts
        expect(t.data_path).toBe('/robustmq/data');
        expect(t.log).toEqual({ log_config: '/robustmq/config/logger.toml', log_path: '/robustmq/logs' });
        expect([t.broker_network.tls_cert, t.broker_network.tls_key]).toEqual(['/robustmq/tls/tls.crt', '/robustmq/tls/tls.key']);
        // secrets arrive byte for byte through TOML escaping
        expect(t.admin.password).toBe(NASTY['admin-password']);
        expect(t.admin.jwt_secret).toBe(NASTY['admin-jwt-secret']);
        expect(t.mqtt_runtime.auth.default_password).toBe(NASTY['mqtt-password']);
        expect(t.cluster_name).toBe('rmq-robustmq');
        if (isMeta) expect(p.log).toContain('has been a Raft voter');
        else expect(p.log).not.toContain('first boot');
      }
    });
  });

  it('takes the ordinal from the pod name when the pod-index label is absent (Kubernetes < 1.28)', () => {
    const pods = renderAllPods(render(helm, { values: [{ topology: 'split' }] }), { podIndexLabel: false });
    expect(pods.map((p) => p.toml.broker_id).sort((a, b) => a - b)).toEqual([1, 2, 3, 1001, 1002, 1003, 2001, 2002, 2003]);
  });

  it('writes a console-only logger.toml that silences the start-up config dump', () => {
    const objs = render(helm, { values: [{ logging: { level: 'debug', targets: [{ path: 'openraft', level: 'warn' }] } }] });
    const logger = parseToml(objs.find((o) => o.metadata.name === 'rmq-robustmq-config')!.data['logger.toml']) as any;
    expect(Object.values(logger).map((a: any) => a.kind)).toEqual(['console']);
    // print_conf() is `info!` in src/broker-server/src/common.rs, i.e. target broker_server::common (crate broker-server)
    expect(logger.stdout.targets).toContainEqual({ path: 'broker_server::common', level: 'warn' });
    expect(logger.stdout.targets).toContainEqual({ path: '', level: 'debug' });
    expect(logger.stdout.targets).toContainEqual({ path: 'openraft', level: 'warn' });
  });

  it('applies config overlays whole-section and keeps types', () => {
    const objs = render(helm, { values: [{ config: { cluster_name: 'prod-mq', mqtt_runtime: { keep_alive: { max_time: 7200 }, system_monitor: { os_cpu_high_watermark: 85 } }, delay_task: { delay_task_queue_num: 4, delay_task_handler_concurrency: 8 } } }] });
    const p = renderAllPods(objs)[0]!;
    expect(p.toml.cluster_name).toBe('prod-mq');
    expect(p.toml.mqtt_runtime.keep_alive).toEqual({ enable: true, default_time: 180, max_time: 7200, default_timeout: 2 });
    expect(p.toml.mqtt_runtime.system_monitor.os_cpu_high_watermark).toBe(85);
    expect(p.text).toMatch(/^os_cpu_high_watermark = 85\.0$/m);
    expect(p.toml.delay_task).toEqual({ delay_task_queue_num: 4, delay_task_handler_concurrency: 8 });
  });
});

describe('init script failure modes', () => {
  const helm = HELMS[0]!;
  const objs = render(helm, { values: [{ topology: 'split' }] });
  const meta = byKind(objs, 'StatefulSet').find((s) => s.metadata.name === 'rmq-robustmq-meta')!;
  const env = envOf(meta.spec.template.spec.initContainers[0]);

  function setup() {
    const dir = tempDir('rmq-init-fail-');
    extractScripts(objs, dir);
    writeSecrets(join(dir, 'secrets'));
    mkdirSync(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls/tls.crt'), 'c');
    writeFileSync(join(dir, 'tls/tls.key'), 'k');
    const paths = { RMQ_TEMPLATE: join(dir, 'server.toml.tmpl'), RMQ_SECRETS_DIR: join(dir, 'secrets'), RMQ_OUT: join(dir, 'out/server.toml'), RMQ_DATA_DIR: join(dir, 'data'), RMQ_TLS_CERT: join(dir, 'tls/tls.crt'), RMQ_TLS_KEY: join(dir, 'tls/tls.key'), RMQ_FIRST_BOOT_WAIT: 'false' };
    return { dir, paths };
  }

  it('refuses to start without a TLS certificate (the server would exit, or fall back to nothing)', () => {
    const { dir, paths } = setup();
    const r = bash(join(dir, 'init-config.sh'), { ...env, ...paths, POD_NAME: 'rmq-robustmq-meta-0', RMQ_TLS_CERT: join(dir, 'nope.crt') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TLS certificate or key missing');
  });

  it('refuses a missing or empty secret key', () => {
    const { dir, paths } = setup();
    writeFileSync(join(dir, 'secrets/mqtt-password'), '\n');
    const r = bash(join(dir, 'init-config.sh'), { ...env, ...paths, POD_NAME: 'rmq-robustmq-meta-0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('mqtt-password is empty');
  });

  it('refuses a meta node whose broker_id is not a voter, and a pod name without an ordinal', () => {
    const { dir, paths } = setup();
    const r = bash(join(dir, 'init-config.sh'), { ...env, ...paths, POD_NAME: 'rmq-robustmq-meta-7' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('broker_id 8 is a meta node but not a key of meta_addrs');
    const r2 = bash(join(dir, 'init-config.sh'), { ...env, ...paths, POD_NAME: 'robustmq', POD_INDEX: '' });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('cannot tell the StatefulSet ordinal');
  });
});
