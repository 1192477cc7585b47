package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sim drives Meta instances with a fake clock and an in-memory "network": peers answer when alive.
type sim struct {
	t     *testing.T
	now   time.Time
	nodes map[uint64]*Meta
	disk  map[uint64][]byte
	alive map[uint64]bool
	// cut[[2]uint64{a, b}]: a's polls do not reach b (one-way, like a stale DNS answer for b in a's resolver)
	cut map[[2]uint64]bool
}

func newSim(t *testing.T, ids ...uint64) *sim {
	s := &sim{t: t, now: time.Unix(1785484800, 0), nodes: map[uint64]*Meta{}, disk: map[uint64][]byte{}, alive: map[uint64]bool{}, cut: map[[2]uint64]bool{}}
	for _, id := range ids {
		s.start(id)
	}
	return s
}

// start (re)starts node id from what it persisted, like a process restart.
func (s *sim) start(id uint64) {
	var p Persisted
	if b := s.disk[id]; b != nil {
		if err := jsonUnmarshal(b, &p); err != nil {
			s.t.Fatal(err)
		}
	}
	m := NewMeta(id, "n"+string(rune('0'+id))+":1228", []string{"metadata_0", "offset_0", "data_0"}, p, s.now,
		func(b []byte) error { s.disk[id] = append([]byte(nil), b...); return nil }, func(string, string, ...any) {})
	m.StaleLeader, m.Election = 30*time.Second, 10*time.Second
	s.nodes[id] = m
	s.alive[id] = true
}

// round advances the clock by d and lets every live node poll the live others once.
func (s *sim) round(d time.Duration) {
	s.now = s.now.Add(d)
	views := map[uint64]PeerState{}
	for id, m := range s.nodes {
		if s.alive[id] {
			views[id] = m.Snapshot()
		}
	}
	for id, m := range s.nodes {
		if s.alive[id] {
			seen := map[uint64]PeerState{}
			for p, v := range views {
				if !s.cut[[2]uint64{id, p}] {
					seen[p] = v
				}
			}
			m.Step(s.now, seen)
		}
	}
}

func (s *sim) view(id uint64) (leader uint64, state string, term uint64) {
	st := s.nodes[id].Snapshot()
	return st.Leader, st.State, st.Term
}

func (s *sim) expect(id, leader uint64, state string, term uint64) {
	s.t.Helper()
	l, st, tm := s.view(id)
	if l != leader || st != state || tm != term {
		s.t.Fatalf("node %d at +%s: leader=%d state=%s term=%d, want leader=%d state=%s term=%d", id, s.now.Sub(time.Unix(1785484800, 0)), l, st, tm, leader, state, term)
	}
}

func (s *sim) form() {
	s.nodes[1].Bootstrap(s.now)
	for _, id := range []uint64{2, 3} {
		if err := s.nodes[1].AddVoter(s.now, id, "addr"); err != nil {
			s.t.Fatal(err)
		}
		s.nodes[id].Follow(s.now, s.nodes[1].Snapshot())
	}
	s.round(500 * time.Millisecond)
}

func TestLeaderRuleStaleWindowThenLowestSurvivor(t *testing.T) {
	s := newSim(t, 1, 2, 3)
	s.form()
	for _, id := range []uint64{2, 3} {
		s.expect(id, 1, StateFollower, 1)
	}
	s.alive[1] = false // SIGKILL of the leader's pod
	// the hand run: the survivors keep naming the dead node, same term, for the whole window
	for i := 0; i < 59; i++ {
		s.round(500 * time.Millisecond)
		s.expect(2, 1, StateFollower, 1)
		s.expect(3, 1, StateFollower, 1)
	}
	s.round(500 * time.Millisecond) // 30 s: both stand
	s.expect(2, 0, StateCandidate, 2)
	s.round(500 * time.Millisecond) // the lowest candidate with a majority leads, at the candidates' term
	s.expect(2, 2, StateLeader, 2)
	s.round(500 * time.Millisecond)
	s.expect(3, 2, StateFollower, 2)
	if _, err := s.nodes[2].Apply(s.now, Op{Kind: "ping"}); err != nil {
		t.Fatal(err)
	}

	// the dead node comes back: it names its persisted leader (itself) and has not heard from a leader ...
	s.start(1)
	s.expect(1, 1, StateFollower, 1)
	if s.nodes[1].HeardLeader() {
		t.Fatal("a restarted node has not heard from a leader yet")
	}
	// ... until the first poll finds the leader that answers
	s.round(500 * time.Millisecond)
	s.expect(1, 2, StateFollower, 2)
	if !s.nodes[1].HeardLeader() {
		t.Fatal("HeardLeader after following 2")
	}
	// no preemption: node 1 has the lowest id but 2 stays leader
	for i := 0; i < 100; i++ {
		s.round(500 * time.Millisecond)
	}
	s.expect(2, 2, StateLeader, 2)
}

func TestLeaderRuleAnExLeaderBackInsideTheWindowDoesNotHoldTheElectionBack(t *testing.T) {
	// the end of a rolling restart: the leader's pod is replaced and back before the survivors' window is over
	s := newSim(t, 1, 2, 3)
	s.form()
	s.alive[1] = false
	for i := 0; i < 20; i++ { // 10 s down
		s.round(500 * time.Millisecond)
	}
	s.start(1)
	s.expect(1, 1, StateFollower, 1)
	for i := 0; i < 40; i++ { // the survivors' 30 s window runs out
		s.round(500 * time.Millisecond)
	}
	s.expect(2, 0, StateCandidate, 2)
	// node 2, the lowest that stands, leads at once; node 1 follows the leader that answers
	s.round(500 * time.Millisecond)
	s.expect(2, 2, StateLeader, 2)
	s.round(500 * time.Millisecond)
	s.expect(1, 2, StateFollower, 2)
	s.expect(3, 2, StateFollower, 2)
}

func TestLeaderRuleNeedsAMajority(t *testing.T) {
	s := newSim(t, 1, 2, 3)
	s.form()
	s.alive[1], s.alive[3] = false, false
	for i := 0; i < 200; i++ {
		s.round(500 * time.Millisecond)
	}
	s.expect(2, 0, StateCandidate, 2)
	if _, err := s.nodes[2].Apply(s.now, Op{Kind: "ping"}); err != ErrNotLeader {
		t.Fatalf("a candidate must refuse writes: %v", err)
	}
	s.alive[3] = true // node 3 also stood (same window); with two of three the lower id leads
	s.round(500 * time.Millisecond)
	s.round(500 * time.Millisecond)
	s.expect(2, 2, StateLeader, 2)
	s.round(500 * time.Millisecond)
	s.expect(3, 2, StateFollower, 2)
}

func TestLeaderRuleRestartedExLeaderWithoutOthersWaitsForAnElection(t *testing.T) {
	s := newSim(t, 1, 2, 3)
	s.form()
	// cold restart of everybody: each names leader 1 from its disk; nobody answers as Leader
	for _, id := range []uint64{1, 2, 3} {
		s.start(id)
	}
	s.round(500 * time.Millisecond)
	for _, id := range []uint64{1, 2, 3} {
		s.expect(id, 1, StateFollower, 1)
	}
	for i := 0; i < 60; i++ {
		s.round(500 * time.Millisecond)
	}
	s.round(500 * time.Millisecond)
	s.expect(1, 1, StateLeader, 2)
	s.round(500 * time.Millisecond)
	s.expect(2, 1, StateFollower, 2)
	s.expect(3, 1, StateFollower, 2)
}

func TestLeaderWithoutQuorumRefusesWrites(t *testing.T) {
	s := newSim(t, 1, 2, 3)
	s.form()
	s.alive[2], s.alive[3] = false, false
	s.round(5 * time.Second)
	s.expect(1, 1, StateLeader, 1) // the stand-in does not model stepping down
	if _, err := s.nodes[1].Apply(s.now, Op{Kind: "ping"}); err == nil || !strings.Contains(err.Error(), "quorum") {
		t.Fatalf("want a quorum error, got %v", err)
	}
}

func TestSplitBrainClustersStayApart(t *testing.T) {
	// two fresh voters that could not see each other each bootstrapped (what raft-wait.sh exists to prevent)
	s := newSim(t, 1, 2)
	s.nodes[1].Bootstrap(s.now)
	s.nodes[2].Bootstrap(s.now)
	for i := 0; i < 10; i++ {
		s.round(500 * time.Millisecond)
	}
	s.expect(1, 1, StateLeader, 1)
	s.expect(2, 2, StateLeader, 1)
}

func TestMetricsOfAFreshNodeAreOpenraftsUninitialisedOnes(t *testing.T) {
	s := newSim(t, 1)
	m := s.nodes[1].Metrics(s.now).Values["metadata_0"]
	if m.State != StateLearner || m.CurrentLeader != nil || m.LastLogIndex != nil || len(m.MembershipConfig.Membership.Configs) != 0 {
		t.Fatalf("%+v", m)
	}
}

func TestEnvOverrideAndConfig(t *testing.T) {
	toml := strings.Join([]string{
		`cluster_name = "rmq"`, `broker_id = 2`, `roles = ["meta", "broker", "engine"]`, `grpc_port = 1228`,
		`meta_addrs = { "1" = "a:1228", "10" = "j:1228", "2" = "b:1228" }`, ``,
		`[mqtt_runtime.server]`, `tcp_port = 1883`, `[storage_runtime]`, `tcp_port = 1778`, `[admin]`, `password = "p"`,
	}, "\n")
	path := filepath.Join(t.TempDir(), "server.toml")
	_ = os.WriteFile(path, []byte(toml), 0o600)
	c, err := LoadConfig(path, []string{"ROBUST_MQ_SERVER_GRPC_PORT=2228", "ROBUST_MQ_SERVER_MQTT_RUNTIME_SERVER_TCP_PORT=2883", `ROBUST_MQ_SERVER_BROKER_IP="x"`})
	if err != nil {
		t.Fatal(err)
	}
	// broker_ip is not in the file: an override cannot add a key (v0.4.11 rewrites existing lines only)
	if c.GRPCPort != 2228 || c.MQTTRuntime.Server.TCPPort != 2883 || c.StorageRuntime.TCPPort != 1778 || c.BrokerIP != "127.0.0.1" || c.Admin.Username != "admin" {
		t.Fatalf("%+v", c)
	}
	var order []uint64
	for _, a := range c.SortedMetaAddrs() {
		order = append(order, a.ID)
	}
	if len(order) != 3 || order[0] != 1 || order[1] != 10 || order[2] != 2 {
		t.Fatalf("meta_addrs order %v, want string order 1, 10, 2", order)
	}
	if got := strings.Join(c.ShardNames(), ","); got != "metadata_0,offset_0,data_0" {
		t.Fatal(got)
	}
}

// The real node's rolling restart: node 1 (the leader) restarts while its peers cannot reach it, and node 1 reaches
// only node 3. 2 is elected; node 1 must not lead the same term through 3, a follower of 2, and follows 2 once it
// reaches it: one leader, one term.
func TestNoSecondLeaderThroughAFollowerOfTheNewOne(t *testing.T) {
	s := newSim(t, 1, 2, 3)
	s.form()
	s.alive[1] = false
	s.round(30 * time.Second)
	s.round(500 * time.Millisecond)
	s.round(500 * time.Millisecond)
	s.expect(2, 2, StateLeader, 2)
	s.expect(3, 2, StateFollower, 2)

	s.start(1)
	s.cut[[2]uint64{2, 1}], s.cut[[2]uint64{3, 1}], s.cut[[2]uint64{1, 2}] = true, true, true
	for i := 0; i < 80; i++ { // past node 1's own stale window
		s.round(500 * time.Millisecond)
		if _, st, _ := s.view(1); st == StateLeader {
			t.Fatalf("node 1 became a second leader at +%s", s.now.Sub(time.Unix(1785484800, 0)))
		}
	}
	s.expect(2, 2, StateLeader, 2)
	s.cut = map[[2]uint64]bool{}
	s.round(500 * time.Millisecond)
	s.expect(1, 2, StateFollower, 2)
	s.expect(2, 2, StateLeader, 2)
}
