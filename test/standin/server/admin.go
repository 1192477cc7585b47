package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

// adminHandler serves http_port: the routes the chart's scripts and the CLI call, with v0.4.11's auth rule
// (src/admin-server/src/auth.rs): POST /api/v1/login is public, everything under /api needs `Authorization: Bearer
// <jwt>` unless the TCP peer is a loopback address.
func (n *Node) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/login", n.handleLogin)
	mux.HandleFunc("GET /metrics", n.handleMetrics)
	api := http.NewServeMux()
	api.HandleFunc("GET /api/info", n.handleInfo)
	api.HandleFunc("GET "+UserListPath, n.handleUserList)
	api.HandleFunc("POST "+UserCreatePath, n.handleUserCreate)
	api.HandleFunc("POST "+UserDeletePath, n.handleUserDelete)
	mux.Handle("/api/", n.authMiddleware(api))
	return mux
}

func writeBody(w http.ResponseWriter, code int, contentType string, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func (n *Node) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		// axum's Json extractor rejects a bad body before the handler runs
		http.Error(w, "Failed to parse the request body as JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	a := n.cfg.Admin
	if req.Username != a.Username || req.Password != a.Password {
		n.log.Logf("WARN", "admin login refused for user %q", req.Username)
		writeBody(w, http.StatusUnauthorized, "application/json", LoginEnvelope{401, nil, "Invalid username or password"})
		return
	}
	ttl := time.Duration(a.TokenTTLHours) * time.Hour
	tok := SignJWT(a.JWTSecret, req.Username, time.Now(), ttl)
	writeBody(w, http.StatusOK, "application/json", LoginEnvelope{0, LoginData{tok, int64(ttl.Seconds())}, "success"})
}

func (n *Node) authMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			next.ServeHTTP(w, r)
			return
		}
		h := r.Header.Get("Authorization")
		if h == "" {
			writeBody(w, http.StatusUnauthorized, "application/json", LoginEnvelope{401, nil, "Missing Authorization header"})
			return
		}
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !VerifyJWT(n.cfg.Admin.JWTSecret, tok, time.Now()) {
			writeBody(w, http.StatusUnauthorized, "application/json", LoginEnvelope{401, nil, "Invalid or expired token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// infoError is /api/info's failure answer: still HTTP 200 text/plain, code 100, data "".
func infoError(w http.ResponseWriter, msg string) {
	writeBody(w, http.StatusOK, "text/plain; charset=utf-8", AdminResponse{Code: 100, Data: "", Error: &msg})
}

// handleInfo answers like v0.4.11: the Raft metrics are those of the FIRST meta_addrs entry that answers the
// ClusterStatus call (grpc-clients round-robin from index 0), not necessarily this node's.
//
// STANDIN_INFO_HANG_AFTER_START_MS plays what the real v0.4.11 did right after a rolling restart: /api/info took 5 s
// and more to answer while the pods were already Ready (docs/real-server-run.md, difference 2).
func (n *Node) handleInfo(w http.ResponseWriter, r *http.Request) {
	if wait := n.opt.InfoHang - time.Since(n.start); wait > 0 {
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return
		}
	}
	content, err := n.firstClusterStatus(r.Context())
	if err != nil {
		infoError(w, err.Error())
		return
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(content), &raw); err != nil {
		infoError(w, err.Error())
		return
	}
	meta := Shards[MetaStatus]{Values: map[string]MetaStatus{}}
	for _, name := range n.cfg.ShardNames() {
		if _, ok := raw[name]; ok {
			meta.Names = append(meta.Names, name)
		}
	}
	for name := range raw {
		if _, ok := meta.Values[name]; !ok && !contains(meta.Names, name) {
			meta.Names = append(meta.Names, name)
		}
	}
	hosts := map[string]bool{}
	for _, name := range meta.Names {
		ms, err := ToMetaStatus(raw[name])
		if err != nil {
			infoError(w, err.Error())
			return
		}
		meta.Values[name] = ms
		for _, nd := range ms.MembershipConfig.Membership.Nodes {
			hosts[hostOf(nd.RPCAddr)] = true
		}
	}
	nodes := n.sortedRegistry()
	for _, b := range nodes {
		hosts[hostOf(b.GRPCAddr)] = true
	}
	hostList := make([]string, 0, len(hosts))
	for h := range hosts {
		hostList = append(hostList, h)
	}
	sort.Strings(hostList)
	info := ClusterInfoResp{Version: version(), ClusterName: n.cfg.ClusterName, StartTime: n.start.Unix(),
		BrokerNodeList: nodes, Meta: meta, Nodes: hostList}
	writeBody(w, http.StatusOK, "text/plain; charset=utf-8", AdminResponse{Code: 0, Data: info})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// version is read from ./config/version.ini like v0.4.11 (src/common/base/src/version); that file says 0.4.3 in the
// v0.4.11 tree, which is also the fallback when the image has none.
func version() string {
	b, err := os.ReadFile("config/version.ini")
	if v := strings.TrimSpace(string(b)); err == nil && v != "" {
		return v
	}
	return "0.4.3"
}

func (n *Node) firstClusterStatus(ctx context.Context) (string, error) {
	var errs []string
	c := &http.Client{Timeout: 3 * time.Second}
	for _, a := range n.metaAddrs {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+a.Addr+ClusterStatusPath, bytes.NewReader(make([]byte, 5)))
		req.Header.Set("Content-Type", "application/grpc-web+proto")
		req.Header.Set("X-Grpc-Web", "1")
		resp, err := c.Do(req)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", a.Addr, err))
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if s := resp.Header.Get("grpc-status"); s != "" && s != "0" {
			return "", fmt.Errorf("ClusterStatus on %s: grpc-status %s %s", a.Addr, s, resp.Header.Get("grpc-message"))
		}
		return ParseGRPCWebReply(body)
	}
	return "", fmt.Errorf("no meta node answers ClusterStatus: %s", strings.Join(errs, "; "))
}

func (n *Node) handleMetrics(w http.ResponseWriter, r *http.Request) {
	conns := 0
	if n.mqtt != nil {
		conns = n.mqtt.Clients.Len()
	}
	w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
	fmt.Fprintf(w, "# HELP mqtt_connections_count MQTT connections (stand-in).\n# TYPE mqtt_connections_count gauge\nmqtt_connections_count %d\n# EOF\n", conns)
}
