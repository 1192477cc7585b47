package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The stand-in's leader rule (docs/standin.md "Leader rule"). It is not Raft: no log is replicated, followers copy
// the leader's whole state each poll. It only reproduces what the chart and the CLI can observe of v0.4.11's Raft:
//   - a fresh first voter with no reachable peer bootstraps itself, a fresh node joins through the first reachable
//     peer of meta_addrs (forwarded to the leader; refused by an uninitialised peer);
//   - every node polls the other voters every heartbeat; a node follows any reachable voter of its cluster that says
//     it is Leader with a term at least its own;
//   - when the leader stops answering, the followers keep naming it, same term, for StaleLeader (the hand run's
//     25–55 s window), then become Candidate (term+1, no leader); a node that names no leader waits Election;
//   - a Candidate becomes Leader (at the highest term it sees, i.e. the old term + 1) when a majority of voters answers and it has the
//     lowest broker_id among the answering voters that have no answering leader either;
//   - a restarted node names its persisted leader (possibly itself) until it hears from a leader that answers.

const (
	StateLeader    = "Leader"
	StateFollower  = "Follower"
	StateCandidate = "Candidate"
	StateLearner   = "Learner"
)

// Persisted is what a meta node keeps in its data directory (<data_path>/_rocksdb/standin-meta.json).
type Persisted struct {
	Initialized bool                  `json:"initialized"`
	Term        uint64                `json:"term"`
	Leader      uint64                `json:"leader"`
	Voters      []uint64              `json:"voters"`
	Nodes       map[string]string     `json:"nodes"`
	LogIndex    uint64                `json:"log_index"`
	MemLog      LogID                 `json:"membership_log_id"`
	Registry    map[string]BrokerNode `json:"registry"`
	// Users: tenant → username → user, what v0.4.11's meta service keeps in its RocksDB
	// (src/meta-service/src/storage/mqtt/user.rs), replicated to every meta node's data dir.
	Users Users `json:"mqtt_users"`
	// LegacyUsers is the format before users had tenants (username → SHA-256): read once, moved into Users.
	LegacyUsers map[string]string `json:"users,omitempty"`
}

// MQTTUser is one MQTT user, with the fields of v0.4.11's SecurityUser (src/common/metadata-struct/src/auth/user.rs)
// except the password, which the stand-in keeps as SHA-256 only (the real one keeps it as given, salt None).
type MQTTUser struct {
	Tenant         string `json:"tenant"`
	Username       string `json:"username"`
	PasswordSHA256 string `json:"password_sha256"`
	IsSuperuser    bool   `json:"is_superuser"`
	CreateTime     uint64 `json:"create_time"`
}

// Users is tenant → username → user.
type Users map[string]map[string]MQTTUser

// DefaultTenant exists from the first start (src/broker-core/src/tenant.rs try_init_default_tenant); the stand-in
// serves no tenant routes, so it is the only tenant there is.
const DefaultTenant = "default"

func (u Users) Get(tenant, username string) (MQTTUser, bool) {
	x, ok := u[tenant][username]
	return x, ok
}

func (u Users) put(x MQTTUser) {
	if u[x.Tenant] == nil {
		u[x.Tenant] = map[string]MQTTUser{}
	}
	u[x.Tenant][x.Username] = x
}

func (u Users) clone() Users {
	out := Users{}
	for _, m := range u {
		for _, x := range m {
			out.put(x)
		}
	}
	return out
}

// PeerState is what a meta node tells the others (GET /standin/v1/state on grpc_port).
type PeerState struct {
	ID    uint64 `json:"id"`
	State string `json:"state"`
	Persisted
}

// Op is one write through the leader: the raft ping, a node registration, the default user created when absent
// ("user"), a user created or deleted through the admin API ("user_create", "user_delete").
type Op struct {
	Kind string     `json:"kind"` // ping | register | user | user_create | user_delete
	Node BrokerNode `json:"node"`
	User MQTTUser   `json:"user"`
}

// WriteReply is the leader's answer to a write: the replicated registry and users.
type WriteReply struct {
	Registry map[string]BrokerNode `json:"registry"`
	Users    Users                 `json:"users"`
}

var ErrNotLeader = errors.New("not leader")

// MetaError is the meta service refusing a write for a reason of its own (the user exists, is missing): an answer,
// not a failure to reach a leader, so it goes back to the caller as it is.
type MetaError struct{ Msg string }

func (e *MetaError) Error() string { return e.Msg }

type Meta struct {
	mu          sync.Mutex
	self        uint64
	selfAddr    string
	shards      []string
	StaleLeader time.Duration
	Election    time.Duration
	// QuorumFresh: how recent the leader's last majority contact must be for it to accept a write
	QuorumFresh time.Duration

	p             Persisted
	state         string
	leaderContact time.Time
	lastQuorum    time.Time
	acked         map[uint64]uint64
	heardLeader   bool
	saved         []byte
	save          func([]byte) error
	logf          func(level, format string, args ...any)
}

func NewMeta(self uint64, selfAddr string, shards []string, p Persisted, now time.Time, save func([]byte) error, logf func(string, string, ...any)) *Meta {
	m := &Meta{self: self, selfAddr: selfAddr, shards: shards, p: p, save: save, logf: logf,
		StaleLeader: 30 * time.Second, Election: 10 * time.Second, QuorumFresh: 3 * time.Second,
		acked: map[uint64]uint64{}, leaderContact: now}
	if m.p.Nodes == nil {
		m.p.Nodes = map[string]string{}
	}
	if m.p.Users == nil {
		m.p.Users = Users{}
	}
	for name, hash := range m.p.LegacyUsers {
		// an older stand-in's data dir: its users were the default tenant's superusers (the default user)
		if _, ok := m.p.Users.Get(DefaultTenant, name); !ok {
			m.p.Users.put(MQTTUser{Tenant: DefaultTenant, Username: name, PasswordSHA256: hash, IsSuperuser: true})
		}
	}
	m.p.LegacyUsers = nil
	m.state = StateLearner
	if p.Initialized {
		// openraft restarts as a follower that still holds its persisted vote
		m.state = StateFollower
	}
	m.saved, _ = json.Marshal(m.p)
	return m
}

func (m *Meta) persist() {
	b, _ := json.Marshal(m.p)
	if string(b) == string(m.saved) {
		return
	}
	if err := m.save(b); err != nil {
		m.logf("ERROR", "persisting meta state: %v", err)
		return
	}
	m.saved = b
}

func quorum(voters []uint64) int { return len(voters)/2 + 1 }

// Snapshot is this node's view, as served to peers.
func (m *Meta) Snapshot() PeerState {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, _ := json.Marshal(m.p)
	var cp Persisted
	_ = json.Unmarshal(b, &cp)
	return PeerState{ID: m.self, State: m.state, Persisted: cp}
}

func (m *Meta) Initialized() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.p.Initialized
}

// Leader is the named leader (0: none) and this node's state.
func (m *Meta) Leader() (uint64, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.p.Leader, m.state
}

// HeardLeader: this incarnation has followed (or been) a leader that answers.
func (m *Meta) HeardLeader() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.heardLeader
}

// Bootstrap makes this node a single-voter cluster (no other meta_addrs entry was reachable).
func (m *Meta) Bootstrap(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.self
	m.p = Persisted{Initialized: true, Term: 1, Leader: id, Voters: []uint64{id},
		Nodes: map[string]string{strconv.FormatUint(id, 10): m.selfAddr}, LogIndex: 1,
		MemLog: LogID{LeaderID{1, id}, 1}, Registry: m.p.Registry, Users: m.p.Users}
	m.state = StateLeader
	m.lastQuorum = now
	m.heardLeader = true
	m.persist()
	m.logf("INFO", "no other meta node reachable: bootstrapped a single-node cluster, leader %d term 1", id)
}

// AddVoter is the leader's side of JoinCluster (add_learner + change_membership on every shard).
func (m *Meta) AddVoter(now time.Time, id uint64, addr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != StateLeader {
		return ErrNotLeader
	}
	if now.Sub(m.lastQuorum) > m.QuorumFresh {
		return errors.New("leader has no quorum: membership change not committed")
	}
	if !slices.Contains(m.p.Voters, id) {
		m.p.LogIndex++
		m.p.Voters = append(m.p.Voters, id)
		slices.Sort(m.p.Voters)
		m.p.MemLog = LogID{LeaderID{m.p.Term, m.self}, m.p.LogIndex}
		m.logf("INFO", "node %d (%s) joined: voters %v", id, addr, m.p.Voters)
	}
	m.p.Nodes[strconv.FormatUint(id, 10)] = addr
	m.persist()
	return nil
}

// Apply commits a write on the leader. A leader without a recent majority cannot commit (v0.4.11 times the write out).
func (m *Meta) Apply(now time.Time, op Op) (WriteReply, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != StateLeader {
		return WriteReply{}, ErrNotLeader
	}
	if now.Sub(m.lastQuorum) > m.QuorumFresh {
		return WriteReply{}, errors.New("leader has no quorum: write not committed")
	}
	if m.p.Registry == nil {
		m.p.Registry = map[string]BrokerNode{}
	}
	if m.p.Users == nil {
		m.p.Users = Users{}
	}
	// refusals first: like v0.4.11 they commit nothing (src/meta-service/src/server/services/mqtt/user.rs checks the
	// store before the Raft write)
	_, exists := m.p.Users.Get(op.User.Tenant, op.User.Username)
	switch {
	case op.Kind == "user_create" && exists:
		return WriteReply{}, &MetaError{fmt.Sprintf("User [%s] already exist", op.User.Username)}
	case op.Kind == "user_delete" && !exists:
		return WriteReply{}, &MetaError{fmt.Sprintf("User %s does not exist", op.User.Username)}
	}
	m.p.LogIndex++
	switch op.Kind {
	case "register":
		key := strconv.FormatUint(op.Node.NodeID, 10)
		old, ok := m.p.Registry[key]
		n := op.Node
		n.RegisterTime = old.RegisterTime
		if !ok || old.StartTime != n.StartTime {
			n.RegisterTime = now.Unix()
		}
		m.p.Registry[key] = n
	case "user":
		// like super_user.rs: created when missing, never updated from the config
		if !exists {
			m.p.Users.put(op.User)
		}
	case "user_create":
		m.p.Users.put(op.User)
	case "user_delete":
		delete(m.p.Users[op.User.Tenant], op.User.Username)
		if len(m.p.Users[op.User.Tenant]) == 0 {
			delete(m.p.Users, op.User.Tenant)
		}
	}
	m.persist()
	return WriteReply{Registry: m.p.Registry, Users: m.p.Users.clone()}, nil
}

// Follow adopts a leader's state (after a join, or when a poll finds it).
func (m *Meta) Follow(now time.Time, l PeerState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.follow(now, l)
}

func (m *Meta) follow(now time.Time, l PeerState) {
	if m.state != StateFollower || m.p.Leader != l.ID || m.p.Term != l.Term {
		m.logf("INFO", "following leader %d, term %d", l.ID, l.Term)
	}
	m.state = StateFollower
	reg, users := l.Registry, l.Users
	m.p = l.Persisted
	m.p.Registry, m.p.Users = reg, users
	if m.p.Users == nil {
		m.p.Users = Users{}
	}
	m.leaderContact = now
	m.heardLeader = true
	m.persist()
}

// Step is one heartbeat: peers holds the answers of the voters that answered this round (by broker_id).
func (m *Meta) Step(now time.Time, peers map[uint64]PeerState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.p.Initialized {
		return
	}
	var reach []PeerState
	for _, q := range peers {
		// only voters of this cluster: a split-brain second cluster does not merge into this one
		if q.ID != m.self && q.Initialized && slices.Contains(m.p.Voters, q.ID) && slices.Contains(q.Voters, m.self) {
			reach = append(reach, q)
		}
	}
	slices.SortFunc(reach, func(a, b PeerState) int { return int(a.ID) - int(b.ID) })

	if m.state == StateLeader {
		for _, q := range reach {
			if q.State == StateLeader && q.Term > m.p.Term {
				m.follow(now, q)
				return
			}
		}
		if 1+len(reach) >= quorum(m.p.Voters) {
			m.lastQuorum = now
		}
		m.acked[m.self] = m.p.LogIndex
		for _, q := range reach {
			m.acked[q.ID] = m.p.LogIndex
		}
		return
	}

	var best *PeerState
	for i, q := range reach {
		if q.State == StateLeader && q.Term >= m.p.Term && (best == nil || q.Term > best.Term) {
			best = &reach[i]
		}
	}
	if best != nil {
		m.follow(now, *best)
		return
	}
	if m.state != StateCandidate {
		timeout := m.Election
		if m.p.Leader != 0 {
			timeout = m.StaleLeader
		}
		if now.Sub(m.leaderContact) < timeout {
			return // keeps naming its leader: the stale window
		}
		m.logf("WARN", "no answer from leader %s for %s: starting an election", leaderName(m.p.Leader), now.Sub(m.leaderContact).Round(time.Second))
		m.state = StateCandidate
		m.p.Term++
		m.p.Leader = 0
		m.persist()
		return // claims no earlier than the next round, so that every candidate has seen the others
	}
	// Votes: a peer that already follows another leader at this term or a later one does not vote again (Raft: one
	// vote per term). Without this rule a candidate that cannot reach the new leader, but reaches one of its
	// followers, led the same term a second time, and both leaders stayed (seen on the real node after a rolling
	// restart, while cached DNS answers hid a restarted pod from its peers).
	votes := 1
	for _, q := range reach {
		if q.State == StateLeader || (q.State == StateFollower && q.Leader != 0 && q.Leader != m.self && q.Term >= m.p.Term) {
			continue
		}
		votes++
	}
	if votes < quorum(m.p.Voters) {
		return
	}
	leading := map[uint64]bool{}
	for _, q := range reach {
		if q.State == StateLeader {
			leading[q.ID] = true
		}
	}
	lowest := m.self
	maxTerm := m.p.Term
	for _, q := range reach {
		maxTerm = max(maxTerm, q.Term)
		// A restarted ex-leader that still names itself is not standing: it follows the first leader that answers.
		// Counted here, its lower id held the survivors' election back until its own window ran out, and they stayed
		// Candidates (not Ready) long enough to take a second voter down in a rolling restart.
		if q.State != StateCandidate && q.Leader == q.ID {
			continue
		}
		if (q.State == StateCandidate || !leading[q.Leader]) && q.ID < lowest {
			lowest = q.ID
		}
	}
	if lowest != m.self {
		return
	}
	// a candidate already moved to term+1: the leader of that election keeps it (openraft elects at the vote's term)
	m.state = StateLeader
	m.p.Term = maxTerm
	m.p.Leader = m.self
	m.p.LogIndex++ // the blank entry a new leader appends
	m.lastQuorum = now
	m.heardLeader = true
	m.persist()
	m.logf("INFO", "elected leader, term %d, voters %v", m.p.Term, m.p.Voters)
}

// LearnUsers takes the users a leader answered to a user write sent through this node, so that the node that took
// the admin call lists the change at once; its meta poll would bring the same state within a heartbeat.
func (m *Meta) LearnUsers(u Users) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == StateLeader || u == nil {
		return
	}
	m.p.Users = u.clone()
	m.persist()
}

func leaderName(id uint64) string {
	if id == 0 {
		return "(none)"
	}
	return strconv.FormatUint(id, 10)
}

// Metrics is this node's own Raft view per shard, as openraft 0.9 reports it (ClusterStatus).
func (m *Meta) Metrics(now time.Time) Shards[RaftMetrics] {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := Shards[RaftMetrics]{Names: m.shards, Values: map[string]RaftMetrics{}}
	for _, name := range m.shards {
		out.Values[name] = m.metrics(now)
	}
	return out
}

func u64(v uint64) *uint64 { return &v }

func (m *Meta) metrics(now time.Time) RaftMetrics {
	r := RaftMetrics{RunningState: runningOK, ID: m.self, State: m.state,
		MembershipConfig: StoredMembership{Membership: Membership{Configs: [][]uint64{}, Nodes: map[string]RaftNode{}}}}
	if !m.p.Initialized {
		// an uninitialised openraft node: no log, empty membership, Learner
		r.State = StateLearner
		return r
	}
	p := m.p
	r.CurrentTerm = p.Term
	voted := p.Leader
	if m.state == StateCandidate {
		voted = m.self
	}
	r.Vote = Vote{LeaderID{p.Term, voted}, p.Leader != 0}
	r.LastLogIndex = u64(p.LogIndex)
	r.LastApplied = &LogID{LeaderID{p.Term, voted}, p.LogIndex}
	if p.LogIndex >= 100 {
		r.Snapshot = &LogID{LeaderID{p.Term, voted}, p.LogIndex / 100 * 100}
	}
	if p.Leader != 0 {
		r.CurrentLeader = u64(p.Leader)
	}
	voters := slices.Clone(p.Voters)
	slices.Sort(voters)
	mem := p.MemLog
	r.MembershipConfig.LogID = &mem
	r.MembershipConfig.Membership.Configs = [][]uint64{voters}
	for _, v := range voters {
		k := strconv.FormatUint(v, 10)
		r.MembershipConfig.Membership.Nodes[k] = RaftNode{v, p.Nodes[k]}
	}
	if m.state == StateLeader {
		r.MillisSinceQuorumAck = u64(uint64(now.Sub(m.lastQuorum).Milliseconds()))
		r.Replication = map[string]*LogID{}
		for _, v := range voters {
			idx, ok := m.acked[v]
			if v == m.self {
				idx, ok = p.LogIndex, true
			}
			if ok {
				r.Replication[strconv.FormatUint(v, 10)] = &LogID{LeaderID{p.Term, m.self}, idx}
			} else {
				r.Replication[strconv.FormatUint(v, 10)] = nil
			}
		}
	}
	return r
}

// Describe is a one-line summary for logs.
func (m *Meta) Describe() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("state=%s leader=%s term=%d voters=%v", m.state, leaderName(m.p.Leader), m.p.Term, m.p.Voters)
}
