package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testNode is a stand-in whose grpc_port is served on loopback (admin handlers are called directly).
type testNode struct {
	*Node
	grpc string
}

// newCluster builds n meta nodes (combined roles) whose meta_addrs point at real loopback listeners.
func newCluster(t *testing.T, n int) []*testNode {
	t.Helper()
	ls := make([]net.Listener, n)
	addrs := map[string]string{}
	for i := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls[i] = l
		addrs[fmt.Sprint(i+1)] = l.Addr().String()
	}
	var out []*testNode
	for i, l := range ls {
		c := defaults()
		c.ClusterName = "robustmq"
		c.BrokerID = uint64(i + 1)
		c.BrokerIP = fmt.Sprintf("robustmq-%d.robustmq-headless.robustmq.svc.cluster.local", i)
		c.Roles = []string{"meta", "broker", "engine"}
		c.MetaAddrs = addrs
		c.DataPath = t.TempDir()
		c.StorageRuntime.TCPPort = 1778
		c.StorageRuntime.DataPath = []string{"/robustmq/data/engine"}
		node, err := NewNode(c, Options{Bind: "127.0.0.1", Heartbeat: 100 * time.Millisecond}, NewLogger(io.Discard))
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: node.grpcHandler()}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { srv.Close() })
		out = append(out, &testNode{node, l.Addr().String()})
	}
	return out
}

// formCluster: node 1 bootstraps, the others join through it, every node registers.
func formCluster(t *testing.T, nodes []*testNode) {
	t.Helper()
	ctx := context.Background()
	nodes[0].meta.Bootstrap(time.Now())
	for _, n := range nodes[1:] {
		if err := n.join(ctx, nodes[0].grpc); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		if _, err := n.write(ctx, Op{Kind: "register", Node: NodeOf(n.cfg, n.start.Unix())}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		n.meta.Step(time.Now(), n.pollPeers(ctx))
	}
}

func get(t *testing.T, h http.Handler, method, path, remote string, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.RemoteAddr = remote
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestAPIInfoHasTheFixturesShape(t *testing.T) {
	nodes := newCluster(t, 3)
	formCluster(t, nodes)
	// asked on node 3, answered with node 1's Raft metrics: the first meta_addrs entry that answers
	w := get(t, nodes[2].adminHandler(), "GET", "/api/info", "127.0.0.1:5000", "", nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("HTTP %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	got := w.Body.Bytes()
	want := fixture(t, "robustmq-api-info-3node.json")
	dataKeyed := map[string]bool{"meta": true, "nodes": true, "replication": true, "heartbeat": true}
	if d := sameShape("$", parseOrdered(t, want), parseOrdered(t, got), dataKeyed); len(d) > 0 {
		t.Fatalf("shape differs from the fixture:\n%s\n%s", strings.Join(d, "\n"), got)
	}
	var r struct {
		Code  int
		Error *string
		Data  ClusterInfoResp
	}
	if err := json.Unmarshal(got, &r); err != nil || r.Code != 0 || r.Error != nil {
		t.Fatalf("%v %s", err, got)
	}
	var raw struct {
		Data struct {
			Meta map[string]MetaStatus
		}
	}
	_ = json.Unmarshal(got, &raw)
	for _, name := range []string{"metadata_0", "offset_0", "data_0"} {
		m := raw.Data.Meta[name]
		if m.ID != 1 || m.State != "Leader" || m.CurrentLeader == nil || *m.CurrentLeader != 1 || fmt.Sprint(m.MembershipConfig.Membership.Configs) != "[[1 2 3]]" {
			t.Fatalf("%s: %+v", name, m)
		}
	}
	if len(r.Data.BrokerNodeList) != 3 || r.Data.BrokerNodeList[2].NodeID != 3 || r.Data.Version != "0.4.3" {
		t.Fatalf("%+v", r.Data)
	}
}

func TestAPIInfoHangsForTheConfiguredTimeAfterStart(t *testing.T) {
	nodes := newCluster(t, 1)
	formCluster(t, nodes)
	n := nodes[0]
	n.opt.InfoHang = 400 * time.Millisecond
	n.start = time.Now()
	// a caller that gives up first (curl --max-time) gets nothing
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := httptest.NewRequest("GET", "/api/info", nil).WithContext(ctx)
	r.RemoteAddr = "127.0.0.1:5000"
	w := httptest.NewRecorder()
	n.adminHandler().ServeHTTP(w, r)
	if w.Body.Len() != 0 {
		t.Fatalf("answered during the hang: %s", w.Body.String())
	}
	// one that waits gets the answer once the window is over
	began := time.Now()
	w = get(t, n.adminHandler(), "GET", "/api/info", "127.0.0.1:5000", "", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"code":0`) || time.Since(n.start) < 400*time.Millisecond {
		t.Fatalf("HTTP %d after %v: %s", w.Code, time.Since(began), w.Body.String())
	}
	// and later calls are answered at once
	n.start = time.Now().Add(-time.Second)
	if w = get(t, n.adminHandler(), "GET", "/api/info", "127.0.0.1:5000", "", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"code":0`) {
		t.Fatalf("HTTP %d: %s", w.Code, w.Body.String())
	}
}

func TestOptionsFromEnvReadsTheInfoHang(t *testing.T) {
	o, err := OptionsFromEnv([]string{"STANDIN_INFO_HANG_AFTER_START_MS=1500"})
	if err != nil || o.InfoHang != 1500*time.Millisecond {
		t.Fatalf("%v %v", o.InfoHang, err)
	}
	if o, _ = OptionsFromEnv(nil); o.InfoHang != 0 {
		t.Fatalf("default %v", o.InfoHang)
	}
	if _, err = OptionsFromEnv([]string{"STANDIN_INFO_HANG_AFTER_START_MS=soon"}); err == nil {
		t.Fatal("accepted a non-number")
	}
}

func TestAPIInfoBeforeBootstrapIsCode100(t *testing.T) {
	nodes := newCluster(t, 1)
	w := get(t, nodes[0].adminHandler(), "GET", "/api/info", "127.0.0.1:5000", "", nil)
	var r struct {
		Code  int
		Data  any
		Error string
	}
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || w.Code != 200 || r.Code != 100 || r.Data != "" || !strings.HasPrefix(r.Error, "invalid type: null, expected u64") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestLoginAndAuthHaveTheFixturesShape(t *testing.T) {
	nodes := newCluster(t, 1)
	h := nodes[0].adminHandler()
	// the fixture's token is reproduced bit for bit from its claims: same header, claim order and signature
	want := fixture(t, "robustmq-login.json")
	var f struct{ Data LoginData }
	_ = json.Unmarshal(want, &f)
	if got := SignJWT("robustmq-change-me-in-production", "admin", time.Unix(1785484860, 0), 8*time.Hour); got != f.Data.Token {
		t.Fatalf("token\n got %s\nwant %s", got, f.Data.Token)
	}
	if !VerifyJWT("robustmq-change-me-in-production", f.Data.Token, time.Unix(1785484900, 0)) || VerifyJWT("other", f.Data.Token, time.Unix(1785484900, 0)) {
		t.Fatal("VerifyJWT")
	}
	w := get(t, h, "POST", "/api/v1/login", "10.0.0.9:4000", `{"username":"admin","password":"admin"}`, map[string]string{"Content-Type": "application/json"})
	if w.Code != 200 {
		t.Fatalf("login %d %s", w.Code, w.Body)
	}
	if d := sameShape("$", parseOrdered(t, want), parseOrdered(t, w.Body.Bytes()), nil); len(d) > 0 {
		t.Fatal(d)
	}
	var ok struct{ Data LoginData }
	_ = json.Unmarshal(w.Body.Bytes(), &ok)
	if ok.Data.ExpiresIn != 28800 {
		t.Fatal(w.Body.String())
	}
	for _, c := range []struct {
		name, path, remote, body string
		hdr                      map[string]string
		code                     int
		want                     string
	}{
		{"wrong password", "/api/v1/login", "10.0.0.9:4000", `{"username":"admin","password":"x"}`, nil, 401, `{"code":401,"data":null,"message":"Invalid username or password"}`},
		{"no token from a pod", "/api/info", "10.0.0.9:4000", "", nil, 401, `{"code":401,"data":null,"message":"Missing Authorization header"}`},
		{"bad token", "/api/info", "10.0.0.9:4000", "", map[string]string{"Authorization": "Bearer x.y.z"}, 401, `{"code":401,"data":null,"message":"Invalid or expired token"}`},
		{"lower-case bearer", "/api/info", "10.0.0.9:4000", "", map[string]string{"Authorization": "bearer " + ok.Data.Token}, 401, `{"code":401,"data":null,"message":"Invalid or expired token"}`},
		{"token", "/api/info", "10.0.0.9:4000", "", map[string]string{"Authorization": "Bearer " + ok.Data.Token}, 200, `{"code":100,`},
		{"loopback needs none", "/api/info", "[::1]:4000", "", nil, 200, `{"code":100,`},
	} {
		method := "GET"
		if c.body != "" {
			method = "POST"
		}
		w := get(t, h, method, c.path, c.remote, c.body, c.hdr)
		if w.Code != c.code || !strings.HasPrefix(w.Body.String(), c.want) {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
	}
}

func clusterStatus(t *testing.T, addr string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+ClusterStatusPath, bytes.NewReader(make([]byte, 5)))
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	req.Header.Set("X-Grpc-Web", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, readAll(t, resp.Body)
}

func TestClusterStatusIsGRPCWebWithOpenraftMetrics(t *testing.T) {
	nodes := newCluster(t, 3)
	formCluster(t, nodes)
	resp, body := clusterStatus(t, nodes[1].grpc)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/grpc-web+proto" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	content, err := ParseGRPCWebReply(body)
	if err != nil {
		t.Fatal(err)
	}
	// the trailer frame follows the data frame
	if !bytes.HasSuffix(body, GRPCWebFrame(0x80, []byte("grpc-status:0\r\n"))) {
		t.Fatalf("no OK trailer: %q", body[len(body)-30:])
	}
	// each shard is the fixture's shard minus MetaStatus's serde defaults (openraft 0.9 does not emit them)
	var fx struct {
		Data struct{ Meta map[string]json.RawMessage }
	}
	_ = json.Unmarshal(fixture(t, "robustmq-api-info-3node.json"), &fx)
	want := parseOrdered(t, fx.Data.Meta["metadata_0"])
	for i := len(want.keys) - 1; i >= 0; i-- {
		if want.keys[i] == "last_quorum_acked" || want.keys[i] == "heartbeat" {
			want.keys = append(want.keys[:i], want.keys[i+1:]...)
			want.kids = append(want.kids[:i], want.kids[i+1:]...)
		}
	}
	var shards map[string]json.RawMessage
	if err := json.Unmarshal([]byte(content), &shards); err != nil || len(shards) != 3 {
		t.Fatalf("%v %s", err, content)
	}
	for name, raw := range shards {
		if d := sameShape(name, want, parseOrdered(t, raw), map[string]bool{"nodes": true, "replication": true}); len(d) > 0 {
			t.Fatal(d)
		}
	}
	if !strings.Contains(content, `"state":"Follower","current_leader":1,`) {
		t.Fatalf("node 2 should follow 1: %s", content)
	}
}

// The chart's own scripts, as the kubelet and the runbooks run them, against a stand-in's grpc_port.
func TestChartScriptsReadTheStandIn(t *testing.T) {
	scripts, _ := filepath.Abs(filepath.Join("..", "..", "..", "chart", "robustmq", "files", "scripts"))
	if _, err := os.Stat(filepath.Join(scripts, "ready.sh")); err != nil {
		t.Skip("chart scripts not found")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	nodes := newCluster(t, 3)
	formCluster(t, nodes)
	// ready.sh asks each leader a node names once per server start (RMQ_META_ADDRS) and keeps that in the pod's
	// emptyDir (RMQ_STATE_DIR, /tmp by default: never the host's)
	var metaAddrs []string
	for _, n := range nodes {
		metaAddrs = append(metaAddrs, fmt.Sprintf("%d=%s", n.cfg.BrokerID, n.grpc))
	}
	run := func(script string, n *testNode) (string, error) {
		conf := filepath.Join(t.TempDir(), "server.toml")
		_ = os.WriteFile(conf, []byte(fmt.Sprintf("broker_id = %d\nroles = [\"meta\", \"broker\", \"engine\"]\n", n.cfg.BrokerID)), 0o644)
		host, port, _ := net.SplitHostPort(n.grpc)
		cmd := exec.Command("bash", filepath.Join(scripts, script))
		cmd.Env = append(os.Environ(), "RMQ_CONFIG="+conf, "RMQ_GRPC_PORT="+port, "RMQ_READY_HOST="+host, "RMQ_DATA_DIR="+t.TempDir(),
			"RMQ_STATE_DIR="+t.TempDir(), "RMQ_META_ADDRS="+strings.Join(metaAddrs, " "))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, n := range nodes {
		if out, err := run("ready.sh", n); err != nil {
			t.Fatalf("ready.sh on node %d: %v %s", n.cfg.BrokerID, err, out)
		}
	}
	out, err := run("status.sh", nodes[2])
	want := "broker_id=3 shard=metadata_0 state=Follower leader=1 term=1 voters=[[1,2,3]]"
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("status.sh: %v\n%s", err, out)
	}
	// a fresh node that has not joined: Learner, no leader; ready.sh says so
	fresh := newCluster(t, 1)
	if out, err := run("ready.sh", fresh[0]); err == nil || !strings.Contains(out, "a shard has no leader") {
		t.Fatalf("fresh node: %v %s", err, out)
	}
}

func TestNonMetaNodeAnswersUnimplemented(t *testing.T) {
	c := defaults()
	c.Roles = []string{"broker"}
	c.DataPath = t.TempDir()
	n, err := NewNode(c, Options{}, NewLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	w := get(t, n.grpcHandler(), "POST", ClusterStatusPath, "127.0.0.1:1", "\x00\x00\x00\x00\x00", map[string]string{"Content-Type": "application/grpc-web+proto"})
	if w.Code != 200 || w.Header().Get("grpc-status") != "12" || w.Body.Len() != 0 {
		t.Fatalf("%d %v %q", w.Code, w.Header(), w.Body)
	}
}
