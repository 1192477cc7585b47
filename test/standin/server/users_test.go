package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// envelope is /api/*'s answer, decoded.
type envelope struct {
	Code  int             `json:"code"`
	Data  json.RawMessage `json:"data"`
	Error *string         `json:"error"`
}

func decodeEnvelope(t *testing.T, body []byte) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not an envelope: %v %s", err, body)
	}
	return e
}

type userPage struct {
	Data       []UserListRow `json:"data"`
	TotalCount int           `json:"total_count"`
}

func listUsers(t *testing.T, h http.Handler, query string) userPage {
	t.Helper()
	w := get(t, h, "GET", UserListPath+query, "127.0.0.1:5000", "", nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("list: HTTP %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	e := decodeEnvelope(t, w.Body.Bytes())
	var p userPage
	if e.Code != 0 || e.Error != nil || json.Unmarshal(e.Data, &p) != nil {
		t.Fatalf("list: %s", w.Body)
	}
	return p
}

func names(p userPage) string {
	var out []string
	for _, r := range p.Data {
		out = append(out, r.Tenant+"/"+r.Username)
	}
	return strings.Join(out, ",")
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

// The shapes of v0.4.11's user routes, on a three-node cluster: a create sent to a follower goes through the leader,
// every node lists it (the one that took the call at once, the others after a meta poll), duplicates and missing users
// are refused by the meta service, bad bodies by the extractor.
func TestUserRoutesHaveV0411Shapes(t *testing.T) {
	nodes := newCluster(t, 3)
	formCluster(t, nodes)
	for _, n := range nodes {
		n.users = nil
	}
	// the default user as startup creates it
	if _, err := nodes[0].write(context.Background(), Op{Kind: "user", User: MQTTUser{Tenant: DefaultTenant, Username: "admin", PasswordSHA256: hashPassword("robustmq"), IsSuperuser: true, CreateTime: 1}}); err != nil {
		t.Fatal(err)
	}
	h3 := nodes[2].adminHandler()
	w := get(t, h3, "POST", UserCreatePath, "127.0.0.1:5000", `{"tenant":"default","username":"alice","password":"s3cret","is_superuser":false}`, jsonCT)
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" || w.Body.String() != `{"code":0,"data":"success","error":null}` {
		t.Fatalf("create: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	p := listUsers(t, h3, "")
	if names(p) != "default/admin,default/alice" || p.TotalCount != 2 || !p.Data[0].IsSuperuser || p.Data[1].IsSuperuser || p.Data[1].CreateTime == 0 {
		t.Fatalf("list on the node that took the call: %+v", p)
	}
	raw := get(t, h3, "GET", UserListPath, "127.0.0.1:5000", "", nil).Body.Bytes()
	if d := sameShape("$", parseOrdered(t, []byte(`{"code":0,"data":{"data":[{"tenant":"default","username":"admin","is_superuser":true,"create_time":1}],"total_count":1},"error":null}`)), parseOrdered(t, raw), nil); len(d) > 0 {
		t.Fatalf("list shape: %v\n%s", d, raw)
	}
	if strings.Contains(string(raw), "s3cret") || strings.Contains(string(raw), hashPassword("s3cret")) {
		t.Fatal("the list shows a password")
	}
	// node 2 learns it on its next meta poll
	nodes[1].meta.Step(time.Now(), nodes[1].pollPeers(context.Background()))
	if got := names(listUsers(t, nodes[1].adminHandler(), "")); got != "default/admin,default/alice" {
		t.Fatalf("node 2 after a poll: %s", got)
	}
	// query parameters of UserListReq: tenant, user_name (substring), limit/page, sort_field/sort_by
	for q, want := range map[string]string{
		"?user_name=lic":                       "default/alice",
		"?tenant=other":                        "",
		"?limit=1&page=2":                      "default/alice",
		"?sort_field=username":                 "default/alice,default/admin",
		"?sort_field=username&sort_by=asc":     "default/admin,default/alice",
		"?tenant=default&user_name=a&limit=10": "default/admin,default/alice",
	} {
		if got := names(listUsers(t, h3, q)); got != want {
			t.Errorf("list%s: %q, want %q", q, got, want)
		}
	}
	if p := listUsers(t, h3, "?limit=1"); p.TotalCount != 2 || len(p.Data) != 1 {
		t.Errorf("total_count counts before the page: %+v", p)
	}

	for _, c := range []struct {
		name, path, body string
		hdr              map[string]string
		code             int
		want             string
	}{
		{"duplicate", UserCreatePath, `{"tenant":"default","username":"alice","password":"x","is_superuser":true}`, jsonCT, 200,
			`{"code":100,"data":"","error":"Grpc call of the node failed,Grpc status was status: Internal, message: \"User [alice] already exist\"`},
		{"missing is_superuser", UserCreatePath, `{"tenant":"default","username":"bob","password":"x"}`, jsonCT, 400,
			"{\"code\":100,\"data\":\"\",\"error\":\"JSON parsing failed: Failed to deserialize the JSON body into the target type: missing field `is_superuser`"},
		{"no content type", UserCreatePath, `{}`, nil, 400,
			"{\"code\":100,\"data\":\"\",\"error\":\"JSON parsing failed: Expected request with `Content-Type: application/json`\"}"},
		{"empty password", UserCreatePath, `{"tenant":"default","username":"bob","password":"","is_superuser":false}`, jsonCT, 400,
			`{"code":100,"data":"","error":"Parameter validation failed: Password length must be between 1-128"}`},
		{"delete a missing user", UserDeletePath, `{"tenant":"default","username":"bob"}`, jsonCT, 200,
			`{"code":100,"data":"","error":"Grpc call of the node failed,Grpc status was status: Internal, message: \"User bob does not exist\"`},
	} {
		w := get(t, h3, "POST", c.path, "127.0.0.1:5000", c.body, c.hdr)
		if w.Code != c.code || !strings.HasPrefix(w.Body.String(), c.want) {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
	}
	// the auth middleware guards the user routes like every /api route
	if w := get(t, h3, "GET", UserListPath, "10.0.0.9:4000", "", nil); w.Code != 401 {
		t.Errorf("list without a token from a pod: %d %s", w.Code, w.Body)
	}
	if w := get(t, h3, "GET", UserCreatePath, "127.0.0.1:5000", "", nil); w.Code != 405 {
		t.Errorf("GET on the create route: %d", w.Code)
	}

	// delete through node 2, seen by the leader at once and by node 3 after a poll
	w = get(t, nodes[1].adminHandler(), "POST", UserDeletePath, "127.0.0.1:5000", `{"tenant":"default","username":"alice"}`, jsonCT)
	if w.Body.String() != `{"code":0,"data":"success","error":null}` {
		t.Fatalf("delete: %s", w.Body)
	}
	nodes[2].meta.Step(time.Now(), nodes[2].pollPeers(context.Background()))
	for _, n := range nodes {
		if got := names(listUsers(t, n.adminHandler(), "")); got != "default/admin" {
			t.Errorf("node %d after delete: %s", n.cfg.BrokerID, got)
		}
	}
}

// freePorts reserves n loopback ports and releases them for the node to bind.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var out []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

func selfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "standin"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	cert, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, keyPath
}

// mqttConnect sends a CONNECT (MQTT 3.1.1 or 5, clean session, no will) and returns the CONNACK's return/reason code.
func mqttConnect(t *testing.T, addr string, version byte, clientID, username, password string) byte {
	t.Helper()
	str := func(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }
	vh := append(str("MQTT"), version, 0xC2, 0, 30) // username + password + clean start, keep-alive 30 s
	if version == 5 {
		vh = append(vh, 0) // no properties
	}
	body := append(append(append(vh, str(clientID)...), str(username)...), str(password)...)
	pkt := append([]byte{0x10, byte(len(body))}, body...) // bodies here stay under 128 bytes
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(c, ack); err != nil || ack[0] != 0x20 {
		t.Fatalf("CONNACK: %v % x", err, ack)
	}
	return ack[3]
}

// runNode runs a single combined stand-in on the given ports and data dir until the returned stop is called.
func runNode(t *testing.T, ports []int, dataDir, cert, key string) (*Node, func()) {
	t.Helper()
	c := defaults()
	c.Roles = []string{"meta", "broker", "engine"}
	c.BrokerIP = "127.0.0.1"
	c.GRPCPort, c.HTTPPort, c.StorageRuntime.TCPPort = ports[0], ports[1], ports[2]
	c.MetaAddrs = map[string]string{"1": fmt.Sprintf("127.0.0.1:%d", ports[0])}
	s := &c.MQTTRuntime.Server
	s.TCPPort, s.TLSPort, s.WebsocketPort, s.WebsocketsPort = ports[3], ports[4], ports[5], ports[6]
	c.BrokerNetwork.TLSCert, c.BrokerNetwork.TLSKey = cert, key
	c.DataPath = dataDir
	// a restarted single node names itself until its stale window ends: keep the window short
	started := make(chan struct{})
	tl := &testLog{t: t, started: started}
	t.Cleanup(func() { tl.mu.Lock(); tl.over = true; tl.mu.Unlock() })
	n, err := NewNode(c, Options{Bind: "127.0.0.1", Heartbeat: 50 * time.Millisecond, StaleLeader: 200 * time.Millisecond, Election: 200 * time.Millisecond}, NewLogger(tl))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	// "started" is logged once the MQTT listeners are open: this incarnation, not whatever else answers on the port
	select {
	case <-started:
	case err := <-done:
		cancel()
		t.Fatalf("node stopped before it started: %v", err)
	case <-time.After(15 * time.Second):
		cancel()
		t.Fatal("node did not start in 15 s")
	}
	return n, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node stopped with %v", err)
		}
	}
}

func adminPost(t *testing.T, port int, path, body string) string {
	t.Helper()
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d%s", port, path), "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func adminList(t *testing.T, port int) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, UserListPath))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct{ Data userPage }
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%v %s", err, b)
	}
	return names(e.Data)
}

// The backup/restore test's path on one real process: create a user through the admin API, log in with it over MQTT,
// restart on the same data dir (what a restored volume is), log in again; wrong passwords and unknown users are
// refused with v0.4.11's codes; the default user keeps working; a deleted user is refused.
func TestCreatedUserLogsInAndSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, t.TempDir())
	ports := freePorts(t, 7)
	mqttAddr := fmt.Sprintf("127.0.0.1:%d", ports[3])
	_, stop := runNode(t, ports, dir, cert, key)

	if got := adminPost(t, ports[1], UserCreatePath, `{"tenant":"default","username":"backup-user","password":"pw-1","is_superuser":false}`); got != `{"code":0,"data":"success","error":null}` {
		t.Fatalf("create: %s", got)
	}
	if got := adminList(t, ports[1]); got != "default/admin,default/backup-user" {
		t.Fatalf("list: %s", got)
	}
	for _, v := range []byte{4, 5} {
		if rc := mqttConnect(t, mqttAddr, v, "c1", "backup-user", "pw-1"); rc != 0 {
			t.Fatalf("MQTT %d login as the created user: code %#x", v, rc)
		}
		if rc := mqttConnect(t, mqttAddr, v, "c2", "admin", "robustmq"); rc != 0 {
			t.Fatalf("MQTT %d login as the default user: code %#x", v, rc)
		}
		if rc := mqttConnect(t, mqttAddr, v, "c3", "default@backup-user", "pw-1"); rc != 0 {
			t.Fatalf("MQTT %d login with the tenant prefix: code %#x", v, rc)
		}
	}
	// v0.4.11: NotAuthorized, 0x87 on MQTT 5 and 5 on 3.1.1; an unknown tenant is UnspecifiedError (3 on 3.1.1)
	for _, c := range []struct {
		version            byte
		client, user, pass string
		want               byte
	}{
		{5, "c4", "backup-user", "wrong", 0x87},
		{4, "c4", "backup-user", "wrong", 0x05},
		{5, "c5", "nobody", "pw-1", 0x87},
		{5, "c6", "acme@backup-user", "pw-1", 0x80},
		{4, "c6", "acme@backup-user", "pw-1", 0x03},
	} {
		if rc := mqttConnect(t, mqttAddr, c.version, c.client, c.user, c.pass); rc != c.want {
			t.Errorf("MQTT %d %s/%s: code %#x, want %#x", c.version, c.user, c.pass, rc, c.want)
		}
	}
	stop()

	raw, err := os.ReadFile(filepath.Join(dir, "_rocksdb", "standin-meta.json"))
	if err != nil || !strings.Contains(string(raw), `"backup-user"`) || strings.Contains(string(raw), "pw-1") {
		t.Fatalf("persisted users: %v %s", err, raw)
	}

	_, stop = runNode(t, ports, dir, cert, key)
	defer stop()
	if got := adminList(t, ports[1]); got != "default/admin,default/backup-user" {
		t.Fatalf("list after the restart: %s", got)
	}
	if rc := mqttConnect(t, mqttAddr, 5, "c7", "backup-user", "pw-1"); rc != 0 {
		t.Fatalf("login after the restart: code %#x", rc)
	}
	if got := adminPost(t, ports[1], UserDeletePath, `{"tenant":"default","username":"backup-user"}`); got != `{"code":0,"data":"success","error":null}` {
		t.Fatalf("delete: %s", got)
	}
	if rc := mqttConnect(t, mqttAddr, 5, "c8", "backup-user", "pw-1"); rc != 0x87 {
		t.Fatalf("login of a deleted user: code %#x", rc)
	}
	if rc := mqttConnect(t, mqttAddr, 5, "c9", "admin", "robustmq"); rc != 0 {
		t.Fatalf("default user after the delete: code %#x", rc)
	}
}

// A data dir written before users had tenants (users: name → SHA-256) still logs its users in.
func TestLegacyUsersAreReadAsDefaultTenantSuperusers(t *testing.T) {
	p := Persisted{Initialized: true, Term: 1, Leader: 1, Voters: []uint64{1}, LegacyUsers: map[string]string{"admin": hashPassword("robustmq")}}
	m := NewMeta(1, "127.0.0.1:1", []string{"metadata_0"}, p, time.Now(), func([]byte) error { return nil }, func(string, string, ...any) {})
	u, ok := m.Snapshot().Users.Get(DefaultTenant, "admin")
	if !ok || !u.IsSuperuser || u.PasswordSHA256 != hashPassword("robustmq") {
		t.Fatalf("%+v", m.Snapshot().Users)
	}
}

// testLog shows the node's log with the test's (on failure or -v) and closes started at "node N started".
type testLog struct {
	t       *testing.T
	started chan struct{}
	once    sync.Once
	mu      sync.Mutex
	over    bool // t.Log after the test has ended panics: a stopped node's last goroutines may still log
}

func (l *testLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	if !l.over {
		l.t.Log(strings.TrimSpace(string(b)))
	}
	l.mu.Unlock()
	if bytes.Contains(b, []byte(" started (roles ")) {
		l.once.Do(func() { close(l.started) })
	}
	return len(b), nil
}
