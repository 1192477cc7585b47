// values.schema.json (draft-07, no remote $ref) through ajv and through helm itself, and the chart's aggregated
// validation (`fail`) for problems a schema cannot express.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CHART, HELMS, PRESETS, renderRaw, ROOT } from './lib.ts';

const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);
const dir = join(ROOT, 'test/fixtures/chart-values');
const files = (kind: string) => readdirSync(join(dir, kind)).map((f) => join(dir, kind, f));
const load = (f: string) => parseYaml(readFileSync(f, 'utf8')) ?? {};
const chartValues = load(join(CHART, 'values.yaml'));

describe('values.schema.json', () => {
  it('is draft-07 without remote references, and lets a parent chart pass any global', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(JSON.stringify(schema)).not.toMatch(/"\$ref"\s*:\s*"(https?:|\/\/)/);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.global.additionalProperties).toBeUndefined();
    expect(validate({ ...chartValues, global: { imageRegistry: '', anything: { from: 'a parent chart' } } }), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([join(CHART, 'values.yaml'), ...PRESETS, ...files('good')])('accepts %s', (f) => {
    const v = { ...chartValues, ...load(f) };
    expect(validate(v), JSON.stringify(validate.errors, null, 1)).toBe(true);
  });

  it.each(files('bad'))('ajv rejects %s for the stated reason', (f) => {
    // each bad file starts with "# expect: <ajv keyword> <dotted path>[ (note)]"
    const [, keyword, path] = readFileSync(f, 'utf8').match(/^# expect: (\w+) ([\w.]+)/)!;
    const merged = structuredCloneMerge(chartValues, load(f));
    expect(validate(merged)).toBe(false);
    const last = path!.split('.').at(-1)!;
    const hit = validate.errors!.some((e: ErrorObject) => e.keyword === keyword && (e.instancePath.endsWith(`/${last}`) || JSON.stringify(e.params).includes(`"${last}"`)));
    expect(hit, JSON.stringify(validate.errors, null, 1)).toBe(true);
  });
});

describe.each(HELMS)('helm $major refuses bad values', (helm) => {
  it.each(files('bad'))('%s', (f) => {
    const r = renderRaw(helm, { files: [f] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/schema/i);
  });

  it.each([...PRESETS, ...files('good')])('and renders good values %s', (f) => {
    const r = renderRaw(helm, { files: [f] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('lists every problem the schema cannot see in one validation failure', () => {
    const r = renderRaw(helm, {
      values: [
        {
          topology: 'split',
          meta: { replicaCount: 4 },
          config: { http_port: 1883 },
          ingress: { enabled: true, hosts: [] },
          httpRoute: { enabled: true },
          tls: { source: 'existingSecret' },
          service: { ports: { ws: 1883 } },
        },
      ],
    });
    expect(r.code).not.toBe(0);
    const msg = r.stderr;
    expect(msg).toContain('VALUES VALIDATION:');
    expect(msg).toContain('meta.replicaCount must be odd and between 1 and 9 (Raft voters), got 4');
    expect(msg).toMatch(/port clash: \w+ and \w+ both use tcp port 1883/);
    expect(msg).toContain('port clash on the client Service: service.ports.mqtt and service.ports.ws are both 1883');
    expect(msg).toContain('ingress.enabled needs at least one host');
    expect(msg).toContain('httpRoute.enabled needs httpRoute.parentRefs');
    expect(msg).toContain('tls.source=existingSecret needs tls.existingSecret');
    expect(msg.match(/VALUES VALIDATION/g)).toHaveLength(1);
  });

  it('validates even when the schema is skipped', () => {
    const r = renderRaw(helm, {
      values: [{ combined: { replicaCount: 2, metaReplicas: 3 }, terminationGracePeriodSeconds: 5, config: { broker_id: 3, admin: { password: 'x' }, delay_task: { delay_task_queue_num: 2 } }, logging: { targets: [{ path: 'broker_server::common', level: 'info' }] } }],
      extra: ['--skip-schema-validation'],
    });
    expect(r.code).not.toBe(0);
    for (const m of [
      'combined.metaReplicas (3) cannot exceed combined.replicaCount (2)',
      'terminationGracePeriodSeconds must be at least 30',
      'config.broker_id is managed by the chart',
      'config.admin.password is managed by the chart',
      'config.delay_task must set both',
      'logging.targets cannot change broker_server::common',
    ])
      expect(r.stderr).toContain(m);
  });

  it('refuses ports the non-root server cannot bind', () => {
    const r = renderRaw(helm, { values: [{ config: { mqtt_runtime: { server: { tcp_port: 883 } } } }] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('port 883 (mqtt) must be between 1024 and 65535');
  });
});

function structuredCloneMerge(a: any, b: any): any {
  if (b === null || typeof b !== 'object' || Array.isArray(b) || typeof a !== 'object' || a === null || Array.isArray(a)) return b;
  const out: any = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? structuredCloneMerge(a[k], v) : v;
  return out;
}
