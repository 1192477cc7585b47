package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// Options are the stand-in's own knobs (environment STANDIN_*, never server.toml, so the chart starts it unchanged).
type Options struct {
	Bind        string        // listen host for every port (the real server binds 0.0.0.0)
	Heartbeat   time.Duration // meta poll period (openraft heartbeat in v0.4.11: 500 ms)
	StaleLeader time.Duration // how long followers keep naming a leader that stopped answering
	Election    time.Duration // how long a node that names no leader waits before it stands
	InfoHang    time.Duration // for this long after start, GET /api/info answers only when it is over (0: off)
}

func OptionsFromEnv(environ []string) (Options, error) {
	o := Options{Bind: "0.0.0.0", Heartbeat: 500 * time.Millisecond, StaleLeader: 30 * time.Second, Election: 10 * time.Second}
	if v := lookupEnv(environ, "STANDIN_BIND"); v != "" {
		o.Bind = v
	}
	for _, d := range []struct {
		key string
		to  *time.Duration
	}{{"STANDIN_HEARTBEAT_MS", &o.Heartbeat}, {"STANDIN_STALE_LEADER_MS", &o.StaleLeader}, {"STANDIN_ELECTION_MS", &o.Election}, {"STANDIN_INFO_HANG_AFTER_START_MS", &o.InfoHang}} {
		if v := lookupEnv(environ, d.key); v != "" {
			ms, err := strconv.Atoi(v)
			if err != nil || ms < 0 {
				return o, fmt.Errorf("%s must be a number of milliseconds, got %q", d.key, v)
			}
			*d.to = time.Duration(ms) * time.Millisecond
		}
	}
	return o, nil
}

// Node is one stand-in process.
type Node struct {
	cfg       *Config
	opt       Options
	start     time.Time
	meta      *Meta // nil unless the node has the meta role
	metaAddrs []MetaAddr
	client    *http.Client
	log       *Logger

	mu       sync.Mutex
	registry map[string]BrokerNode // non-meta nodes: the registry as the leader last answered
	users    Users                 // non-meta nodes: the users as the leader last answered

	servers []*http.Server
	mqtt    *mqtt.Server
	engine  net.Listener
	fatal   chan error
}

func NewNode(cfg *Config, opt Options, log *Logger) (*Node, error) {
	n := &Node{cfg: cfg, opt: opt, start: time.Now(), log: log, metaAddrs: cfg.SortedMetaAddrs(),
		client: &http.Client{Timeout: 2 * time.Second}, fatal: make(chan error, 1)}
	if cfg.HasRole("meta") {
		self, ok := cfg.MetaAddrs[strconv.FormatUint(cfg.BrokerID, 10)]
		if !ok {
			return nil, fmt.Errorf("broker_id %d not found in meta_addrs", cfg.BrokerID)
		}
		var p Persisted
		if b, err := os.ReadFile(n.metaFile()); err == nil {
			if err := json.Unmarshal(b, &p); err != nil {
				return nil, fmt.Errorf("meta state %s: %w", n.metaFile(), err)
			}
		}
		n.meta = NewMeta(cfg.BrokerID, self, cfg.ShardNames(), p, n.start, n.saveMeta, log.Logf)
		n.meta.StaleLeader, n.meta.Election = opt.StaleLeader, opt.Election
		n.meta.QuorumFresh = max(3*time.Second, 4*opt.Heartbeat)
	}
	return n, nil
}

// The stand-in keeps its state where v0.4.11 keeps RocksDB, so that "has data" checks and backups see it.
func (n *Node) stateDir() string { return filepath.Join(n.cfg.DataPath, "_rocksdb") }
func (n *Node) metaFile() string { return filepath.Join(n.stateDir(), "standin-meta.json") }

func (n *Node) saveMeta(b []byte) error {
	if err := os.MkdirAll(n.stateDir(), 0o755); err != nil {
		return err
	}
	tmp := n.metaFile() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, n.metaFile())
}

func (n *Node) listen(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(n.opt.Bind, strconv.Itoa(port)))
}

// Run starts the node and blocks until ctx ends (SIGTERM) or a start-up step fails (v0.4.11 exits 1 then).
func (n *Node) Run(ctx context.Context) error {
	if err := os.MkdirAll(n.stateDir(), 0o755); err != nil {
		return fmt.Errorf("open data directory: %w", err)
	}
	// gRPC and admin HTTP open first, before any Raft decision (src/broker-server/src/lib.rs start())
	for _, s := range []struct {
		name string
		port int
		h    http.Handler
	}{{"gRPC", n.cfg.GRPCPort, n.grpcHandler()}, {"admin HTTP", n.cfg.HTTPPort, n.adminHandler()}} {
		l, err := n.listen(s.port)
		if err != nil {
			return fmt.Errorf("%s server: %w", s.name, err)
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		n.servers = append(n.servers, srv)
		go func() { _ = srv.Serve(l) }()
		n.log.Logf("INFO", "%s server listening on %s", s.name, l.Addr())
	}
	go n.startup(ctx)
	select {
	case <-ctx.Done():
		n.Stop()
		return nil
	case err := <-n.fatal:
		n.Stop()
		return err
	}
}

func (n *Node) fail(err error) {
	select {
	case n.fatal <- err:
	default:
	}
}

func (n *Node) startup(ctx context.Context) {
	if n.meta != nil {
		if n.meta.Initialized() {
			n.log.Logf("INFO", "node %d has persisted state, recovering (%s)", n.cfg.BrokerID, n.meta.Describe())
		} else if err := n.bootstrapOrJoin(ctx); err != nil {
			n.fail(fmt.Errorf("meta service: %w", err))
			return
		}
		go n.metaLoop(ctx)
	}
	// like check_meta_service_status: nothing else starts before a write commits through an answering leader
	lastLog := time.Time{}
	for {
		if _, err := n.write(ctx, Op{Kind: "ping"}); err == nil {
			break
		} else if time.Since(lastLog) >= 10*time.Second {
			n.log.Logf("WARN", "meta service not writable yet (raft ping): %v", err)
			lastLog = time.Now()
		}
		if sleepCtx(ctx, time.Second) != nil {
			return
		}
	}
	n.log.Logf("INFO", "meta service writable")
	if err := n.register(ctx); err != nil {
		n.fail(err)
		return
	}
	a := n.cfg.MQTTRuntime.Auth
	def := MQTTUser{Tenant: DefaultTenant, Username: a.DefaultUser, PasswordSHA256: hashPassword(a.DefaultPassword), IsSuperuser: true, CreateTime: uint64(time.Now().Unix())}
	if _, err := n.write(ctx, Op{Kind: "user", User: def}); err != nil {
		n.fail(fmt.Errorf("create the default MQTT user: %w", err))
		return
	}
	go n.heartbeatLoop(ctx)
	if n.cfg.HasRole("engine") {
		l, err := n.listen(n.cfg.StorageRuntime.TCPPort)
		if err != nil {
			n.fail(fmt.Errorf("storage engine: %w", err))
			return
		}
		n.engine = l
		go acceptAndDrain(l)
		n.log.Logf("INFO", "storage engine listening on %s (stand-in: accepts and drains connections)", l.Addr())
	}
	if n.cfg.HasRole("broker") {
		if err := n.startMQTT(); err != nil {
			n.log.Logf("ERROR", "Failed to start MQTT broker server: %v", err)
			n.fail(err)
			return
		}
	}
	n.log.Logf("INFO", "node %d started (roles %v)", n.cfg.BrokerID, n.cfg.Roles)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func acceptAndDrain(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
	}
}

func hashPassword(p string) string {
	s := sha256.Sum256([]byte(p))
	return hex.EncodeToString(s[:])
}

// bootstrapOrJoin is v0.4.11's decision for a fresh meta node (src/meta-service/src/raft/manager.rs start()): TCP
// probe every other meta_addrs entry in order (500 ms each); join through the first that answers, else bootstrap.
func (n *Node) bootstrapOrJoin(ctx context.Context) error {
	for _, a := range n.metaAddrs {
		if a.ID == n.cfg.BrokerID {
			continue
		}
		c, err := net.DialTimeout("tcp", a.Addr, 500*time.Millisecond)
		if err != nil {
			continue
		}
		c.Close()
		n.log.Logf("INFO", "joining the cluster through node %d (%s)", a.ID, a.Addr)
		return n.join(ctx, a.Addr)
	}
	n.meta.Bootstrap(time.Now())
	return nil
}

func (n *Node) join(ctx context.Context, addr string) error {
	req := map[string]any{"node_id": n.cfg.BrokerID, "rpc_addr": n.meta.selfAddr}
	for hop := 0; hop < 3; hop++ {
		var st PeerState
		code, body, err := n.post(ctx, addr, "/standin/v1/join", req, &st)
		if err != nil {
			return fmt.Errorf("JoinCluster via %s: %w", addr, err)
		}
		switch code {
		case http.StatusOK:
			n.meta.Follow(time.Now(), st)
			return nil
		case http.StatusMisdirectedRequest: // openraft ForwardToLeader with an address: grpc-clients re-sends there
			var f struct {
				ForwardTo string `json:"forward_to"`
			}
			_ = json.Unmarshal(body, &f)
			addr = f.ForwardTo
			continue
		default:
			return fmt.Errorf("JoinCluster via %s refused: %s", addr, strings.TrimSpace(string(body)))
		}
	}
	return errors.New("JoinCluster: too many forwards")
}

// post sends JSON to another node's grpc_port. err is set only when the node did not answer at all.
func (n *Node) post(ctx context.Context, addr, path string, in any, out any) (int, []byte, error) {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return 0, body, err
		}
	}
	return resp.StatusCode, body, nil
}

func (n *Node) metaLoop(ctx context.Context) {
	t := time.NewTicker(n.opt.Heartbeat)
	defer t.Stop()
	for {
		peers := n.pollPeers(ctx)
		n.meta.Step(time.Now(), peers)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) pollPeers(ctx context.Context) map[uint64]PeerState {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[uint64]PeerState{}
	c := &http.Client{Timeout: max(n.opt.Heartbeat*2, time.Second)}
	for _, a := range n.metaAddrs {
		if a.ID == n.cfg.BrokerID {
			continue
		}
		wg.Add(1)
		go func(a MetaAddr) {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr+"/standin/v1/state", nil)
			resp, err := c.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var st PeerState
			if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil || st.ID != a.ID {
				return
			}
			mu.Lock()
			out[a.ID] = st
			mu.Unlock()
		}(a)
	}
	wg.Wait()
	return out
}

// write commits an Op through the meta service as v0.4.11's grpc-clients do: the first meta_addrs entry that answers
// takes it, a follower forwards it to its leader; no answering leader, no write.
func (n *Node) write(ctx context.Context, op Op) (WriteReply, error) {
	var lastErr error = errors.New("no meta node answers")
	for _, a := range n.metaAddrs {
		var r WriteReply
		code, body, err := n.post(ctx, a.Addr, "/standin/v1/write", op, &r)
		if err != nil {
			lastErr = fmt.Errorf("node %d (%s): %v", a.ID, a.Addr, err)
			continue
		}
		if code == http.StatusUnprocessableEntity {
			return r, &MetaError{strings.TrimSpace(string(body))}
		}
		if code != http.StatusOK {
			return r, fmt.Errorf("node %d: %s", a.ID, strings.TrimSpace(string(body)))
		}
		n.mu.Lock()
		n.registry, n.users = r.Registry, r.Users
		n.mu.Unlock()
		if n.meta != nil && strings.HasPrefix(op.Kind, "user_") {
			n.meta.LearnUsers(r.Users)
		}
		return r, nil
	}
	return WriteReply{}, lastErr
}

func (n *Node) register(ctx context.Context) error {
	var err error
	// 30 attempts, 2 s apart, then the real server panics (src/broker-core/src/heartbeat.rs)
	for i := 0; i < 30; i++ {
		if _, err = n.write(ctx, Op{Kind: "register", Node: NodeOf(n.cfg, n.start.Unix())}); err == nil {
			n.log.Logf("INFO", "node %d registered", n.cfg.BrokerID)
			return nil
		}
		if sleepCtx(ctx, 2*time.Second) != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("register node: %w", err)
}

func (n *Node) heartbeatLoop(ctx context.Context) {
	for sleepCtx(ctx, 3*time.Second) == nil {
		_, _ = n.write(ctx, Op{Kind: "register", Node: NodeOf(n.cfg, n.start.Unix())})
	}
}

// view is the registry and users this node knows: a meta node's own replicated copy, else the last write reply.
func (n *Node) view() (map[string]BrokerNode, Users) {
	if n.meta != nil {
		s := n.meta.Snapshot()
		if len(s.Registry) > 0 || len(s.Users) > 0 {
			return s.Registry, s.Users
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.registry, n.users
}

func (n *Node) sortedRegistry() []BrokerNode {
	reg, _ := n.view()
	out := make([]BrokerNode, 0, len(reg))
	for _, b := range reg {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NodeID < out[j].NodeID })
	return out
}

// Stop is the graceful stop: listeners closed, MQTT sessions ended, state already on disk.
func (n *Node) Stop() {
	n.log.Logf("INFO", "stopping")
	if n.mqtt != nil {
		_ = n.mqtt.Close()
	}
	if n.engine != nil {
		n.engine.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range n.servers {
		_ = s.Shutdown(ctx)
	}
	n.log.Logf("INFO", "stopped")
}

func hostOf(addr string) string {
	h, _, ok := strings.Cut(addr, ":")
	if !ok {
		return addr
	}
	return h
}

func containsRole(roles []string, r string) bool { return slices.Contains(roles, r) }
