import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCluster, confirmLeaders, describeLeaders, parseInfo, parseLogin, parseStatusLines, podOfHost, type PodAnswer } from '../../src/core/robustmq-check.js';

// Fixtures are hand-written from RobustMQ v0.4.11's structs (see their _comment keys); the comment is removed first.
function fixture(name: string): Record<string, unknown> {
  const j = JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
  delete j._comment;
  return j;
}
const info3 = fixture('robustmq-api-info-3node.json');
const body = (j: unknown) => JSON.stringify(j);
const pods = ['robustmq-0', 'robustmq-1', 'robustmq-2'];
const allAnswer = (j: unknown): PodAnswer[] => pods.map((pod) => ({ pod, body: body(j) }));

function mutate(f: (d: { meta: Record<string, Record<string, unknown>>; broker_node_list: unknown[] }) => void): unknown {
  const j = structuredClone(info3) as { data: { meta: Record<string, Record<string, unknown>>; broker_node_list: unknown[] } };
  f(j.data);
  return j;
}

describe('parse RobustMQ answers', () => {
  it('parses /api/info', () => {
    const p = parseInfo(body(info3));
    expect(p.ok).toBe(true);
    if (p.ok) {
      expect(p.info.broker_node_list).toHaveLength(3);
      expect(Object.keys(p.info.meta).sort()).toEqual(['data_0', 'metadata_0', 'offset_0']);
    }
  });

  it('reports an error answer (HTTP 200, code 100) with its text', () => {
    const p = parseInfo('{"code":100,"data":"","error":"invalid type: null, expected u64"}');
    expect(p).toEqual({ ok: false, error: 'code 100: invalid type: null, expected u64' });
  });

  it('reports a non-JSON answer', () => {
    expect(parseInfo('curl: (7) Failed to connect to 127.0.0.1 port 58080')).toEqual({ ok: false, error: 'not JSON: curl: (7) Failed to connect to 127.0.0.1 port 58080' });
  });

  it('parses login (wrapper with message) and a refusal', () => {
    const ok = parseLogin(body(fixture('robustmq-login.json')));
    expect(ok.ok && ok.expiresIn).toBe(28800);
    expect(parseLogin('{"code":401,"data":null,"message":"Invalid username or password"}')).toEqual({ ok: false, error: 'login refused: Invalid username or password' });
  });

  it('maps a node host to its pod', () => {
    expect(podOfHost('robustmq-2.robustmq-headless.robustmq.svc.cluster.local')).toBe('robustmq-2');
    expect(podOfHost('robustmq-meta-0.robustmq-meta-headless.ns.svc:1228')).toBe('robustmq-meta-0');
  });
});

describe('cluster check', () => {
  it('3 meta pods that agree, all registered → ok, leaders named by pod', () => {
    const r = checkCluster({ answers: allAnswer(info3), expectedNodes: 3, expectedVoters: 3 });
    expect(r.problems).toEqual([]);
    expect(r.status).toBe('ok');
    expect(r.nodes.map((n) => n.pod)).toEqual(pods);
    expect(describeLeaders(r)).toEqual([
      'data_0: leader robustmq-0 (node 1), term 1, voters 1,2,3',
      'metadata_0: leader robustmq-0 (node 1), term 1, voters 1,2,3',
      'offset_0: leader robustmq-0 (node 1), term 1, voters 1,2,3',
    ]);
    expect(r.shards[0]!.reportedBy).toEqual(pods);
  });

  it('pods that disagree on leader or term fail, naming who said what', () => {
    const other = mutate((d) => {
      d.meta.metadata_0!.current_leader = 2;
      d.meta.metadata_0!.current_term = 2;
    });
    const r = checkCluster({ answers: [{ pod: 'robustmq-0', body: body(info3) }, { pod: 'robustmq-1', body: body(info3) }, { pod: 'robustmq-2', body: body(other) }], expectedNodes: 3, expectedVoters: 3 });
    expect(r.status).toBe('failed');
    expect(r.problems).toEqual(['shard metadata_0: the meta pods disagree: robustmq-0,robustmq-1 → leader 1 term 1; robustmq-2 → leader 2 term 2']);
  });

  it('a shard without a leader fails', () => {
    const j = mutate((d) => {
      d.meta.offset_0!.current_leader = null;
    });
    const r = checkCluster({ answers: allAnswer(j), expectedNodes: 3, expectedVoters: 3 });
    expect(r.problems).toContain('shard offset_0: no leader: election in progress');
  });

  it('a node missing from the registry fails', () => {
    const j = mutate((d) => {
      d.broker_node_list.pop();
    });
    const r = checkCluster({ answers: allAnswer(j), expectedNodes: 3, expectedVoters: 3 });
    expect(r.problems).toEqual(['2 nodes registered (robustmq-0, robustmq-1), expected 3']);
  });

  it('a voter count different from the meta replicas fails (split brain: a node bootstrapped alone)', () => {
    const j = mutate((d) => {
      (d.meta.metadata_0!.membership_config as { membership: { configs: number[][] } }).membership.configs = [[1]];
    });
    const r = checkCluster({ answers: allAnswer(j), expectedNodes: 3, expectedVoters: 3 });
    expect(r.problems).toContain('shard metadata_0: 1 voters (1), expected 3');
  });

  it('an error answer from one pod fails the check', () => {
    const answers: PodAnswer[] = [...allAnswer(info3).slice(0, 2), { pod: 'robustmq-2', body: '{"code":100,"data":"","error":"raft not ready"}' }];
    const r = checkCluster({ answers, expectedNodes: 3, expectedVoters: 3 });
    expect(r.status).toBe('failed');
    expect(r.problems).toEqual(['robustmq-2: /api/info code 100: raft not ready']);
  });

  it('access blocked for every pod is a warning, not a failure', () => {
    const answers: PodAnswer[] = pods.map((pod) => ({ pod, error: 'pods/exec is forbidden for this user', blocked: true }));
    const r = checkCluster({ answers, expectedNodes: 3, expectedVoters: 3 });
    expect(r.status).toBe('blocked');
    expect(r.problems).toEqual([]);
    expect(r.warnings).toHaveLength(3);
  });

  it('access blocked for some pods: judged on the others, with a warning', () => {
    const answers: PodAnswer[] = [...allAnswer(info3).slice(0, 2), { pod: 'robustmq-2', error: 'forbidden', blocked: true }];
    const r = checkCluster({ answers, expectedNodes: 3, expectedVoters: 3 });
    expect(r.status).toBe('ok');
    expect(r.warnings[0]).toBe('1 of 3 meta pods could not be asked');
  });
});

describe('the named leader must answer that it leads (the stale-leader window)', () => {
  const agreed = () => checkCluster({ answers: allAnswer(info3), expectedNodes: 3, expectedVoters: 3 });
  const ownView = (state: string, term = 1) =>
    ['metadata_0', 'offset_0', 'data_0'].map((s) => `broker_id=1 shard=${s} state=${state} leader=${state === 'Leader' ? 1 : 'null'} term=${term} voters=[[1,2,3]]`).join('\n');

  it('reads status.sh lines', () => {
    expect(parseStatusLines('broker_id=2 shard=metadata_0 state=Follower leader=1 term=3 voters=[[1,2,3]]\nnoise\nbroker_id=2 shard=data_0 state=Candidate leader=null term=4 voters=[[1,2,3]]')).toEqual([
      { shard: 'metadata_0', state: 'Follower', leader: 1, term: 3 },
      { shard: 'data_0', state: 'Candidate', leader: null, term: 4 },
    ]);
  });

  it('takes each voter\'s gRPC address from the Raft membership', () => {
    expect(Object.keys(agreed().voterAddrs ?? {})).toEqual(['1', '2', '3']);
  });

  it('a leader that confirms every shard at the same term → ok', () => {
    const r = confirmLeaders(agreed(), [{ leader: 1, addr: 'robustmq-0:1228', text: ownView('Leader') }]);
    expect(r.problems).toEqual([]);
    expect(r.status).toBe('ok');
  });

  it('a leader nobody can reach fails as unreachable, although every pod names it', () => {
    const r = confirmLeaders(agreed(), [{ leader: 1, addr: 'robustmq-0:1228', error: 'curl: (6) Could not resolve host: robustmq-0', blocked: false }]);
    expect(r.status).toBe('failed');
    expect(r.problems).toEqual(['leader 1 (robustmq-0) unreachable at robustmq-0:1228 (curl: (6) Could not resolve host: robustmq-0); the meta pods still name it (term 1): election in progress or the pod is down']);
  });

  it('a leader whose own view is no longer Leader, or at another term, fails as an election in progress', () => {
    const candidate = confirmLeaders(agreed(), [{ leader: 1, addr: 'a:1', text: ownView('Candidate', 2) }]);
    expect(candidate.status).toBe('failed');
    expect(candidate.problems[0]).toBe('leader 1 (robustmq-0) does not confirm it leads shard data_0 (its own view: Candidate, term 2; the others say term 1): election in progress');
    expect(candidate.problems).toHaveLength(3);
    const newerTerm = confirmLeaders(agreed(), [{ leader: 1, addr: 'a:1', text: ownView('Leader', 5) }]);
    expect(newerTerm.status).toBe('failed');
  });

  it('a leader that could not be asked (exec refused) is a warning, not a failure', () => {
    const r = confirmLeaders(agreed(), [{ leader: 1, addr: 'a:1', error: 'forbidden', blocked: true }]);
    expect(r.status).toBe('ok');
    expect(r.warnings).toEqual(['leader 1 (robustmq-0) could not be asked whether it leads: forbidden']);
  });
});
