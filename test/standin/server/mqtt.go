package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"go.etcd.io/bbolt"
)

// startMQTT opens TCP, TLS, WebSocket and secure WebSocket on the configured ports with one cert/key pair, as v0.4.11
// does on broker nodes (no enable switch; an unreadable cert or key stops the process). QUIC (UDP) is not served.
func (n *Node) startMQTT() error {
	cert, err := tls.LoadX509KeyPair(n.cfg.BrokerNetwork.TLSCert, n.cfg.BrokerNetwork.TLSKey)
	if err != nil {
		return fmt.Errorf("load TLS certificate/key: %w", err)
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	s := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(quietMQTT{slog.NewTextHandler(n.log, &slog.HandlerOptions{Level: slog.LevelError})})})
	if err := s.AddHook(&standinHook{n: n, s: s}, nil); err != nil {
		return err
	}
	// retained messages and sessions survive restarts, in the data directory like v0.4.11's RocksDB
	if err := s.AddHook(new(bolt.Hook), &bolt.Options{Path: filepath.Join(n.stateDir(), "standin-mqtt.db"), Options: &bbolt.Options{Timeout: 5 * time.Second}}); err != nil {
		return fmt.Errorf("open MQTT store: %w", err)
	}
	p := n.cfg.MQTTRuntime.Server
	addr := func(port int) string { return net.JoinHostPort(n.opt.Bind, strconv.Itoa(port)) }
	for _, l := range []listeners.Listener{
		listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr(p.TCPPort)}),
		listeners.NewTCP(listeners.Config{ID: "tls", Address: addr(p.TLSPort), TLSConfig: tlsConf}),
		listeners.NewWebsocket(listeners.Config{ID: "ws", Address: addr(p.WebsocketPort)}),
		listeners.NewWebsocket(listeners.Config{ID: "wss", Address: addr(p.WebsocketsPort), TLSConfig: tlsConf}),
	} {
		if err := s.AddListener(l); err != nil {
			return fmt.Errorf("MQTT %s listener on %s: %w", l.ID(), l.Address(), err)
		}
	}
	// mochi's websocket listeners bind inside Serve's goroutines; probe the ports first so a clash fails the start
	for _, port := range []int{p.WebsocketPort, p.WebsocketsPort} {
		l, err := net.Listen("tcp", addr(port))
		if err != nil {
			return fmt.Errorf("MQTT websocket port %d: %w", port, err)
		}
		l.Close()
	}
	if err := s.Serve(); err != nil {
		return err
	}
	n.mqtt = s
	n.log.Logf("INFO", "MQTT listening: tcp %d, tls %d, websocket %d, websockets %d", p.TCPPort, p.TLSPort, p.WebsocketPort, p.WebsocketsPort)
	return nil
}

// standinHook: login against the MQTT users kept by the meta service, subscriptions refused while no leader answers
// (the hand run: subscriptions were denied during the stale-leader window), publications fanned out to the other
// brokers.
type standinHook struct {
	mqtt.HookBase
	n       *Node
	s       *mqtt.Server
	denySub sync.Map // client id → true while its SUBSCRIBE is being refused
}

func (h *standinHook) ID() string { return "robustmq-standin" }

func (h *standinHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnSubscribe, mqtt.OnSubscribed, mqtt.OnDisconnect, mqtt.OnPublished}, []byte{b})
}

// The CONNACK codes of v0.4.11's refusals (src/mqtt-broker/src/mqtt/connect.rs build_connect_ack_fail_packet): a
// login that fails is NotAuthorized (0x87; 5 on MQTT 3.1.1), an unknown tenant UnspecifiedError (0x80; 3, server
// unavailable, on MQTT 3.1.1). mochi's own refusal would be 0x86, so the check runs in OnConnect, which sends its own
// CONNACK. The v3 codes go through mochi's v5→v3 table, hence the v5 codes that map to them.
var (
	connackNotAuthorized   = packets.Code{Code: packets.ErrNotAuthorized.Code, Reason: "login not authorized"}
	connackNoTenant        = packets.ErrUnspecifiedError
	connackNotAuthorizedV3 = packets.ErrBadUsernameOrPassword // → 0x05 not authorized
	connackNoTenantV3      = packets.ErrServerUnavailable     // → 0x03 server unavailable
)

// OnConnect checks the login as v0.4.11 does (src/mqtt-broker/src/core/security.rs security_login_check,
// src/common/security/src/login/password.rs): secret_free_login (false by default, src/common/config/src/default.rs)
// lets anyone in; otherwise the tenant is decoded from the CONNECT (tenant.rs) and the user of that tenant named by the
// part of the username after "@" must exist with that password. Unknown users are refused.
func (h *standinHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if h.n.cfg.MQTTRuntime.Auth.SecretFreeLogin {
		return nil
	}
	v3 := cl.Properties.ProtocolVersion < 5
	tenant := connectTenant(pk)
	if tenant != DefaultTenant {
		// the stand-in serves no tenant routes: only the default tenant exists ("Tenant [x] does not exist.")
		h.n.log.Logf("WARN", "MQTT connect refused: tenant %q does not exist (from %s)", tenant, cl.Net.Remote)
		return h.refuse(cl, v3, connackNoTenant, connackNoTenantV3)
	}
	username := afterTenant(string(pk.Connect.Username))
	_, users := h.n.view()
	if u, ok := users.Get(tenant, username); ok && pk.Connect.PasswordFlag && u.PasswordSHA256 == hashPassword(string(pk.Connect.Password)) {
		return nil
	}
	h.n.log.Logf("WARN", "MQTT login refused for user %q of tenant %q from %s", username, tenant, cl.Net.Remote)
	return h.refuse(cl, v3, connackNotAuthorized, connackNotAuthorizedV3)
}

func (h *standinHook) refuse(cl *mqtt.Client, v3 bool, v5code, v3code packets.Code) error {
	code := v5code
	if v3 {
		code = v3code
	}
	if err := h.s.SendConnack(cl, code, false, nil); err != nil {
		return err
	}
	return code
}

// OnConnectAuthenticate: OnConnect has decided already (mochi refuses when no hook says yes).
func (h *standinHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool { return true }

// connectTenant is v0.4.11's decode_tenant_name (src/mqtt-broker/src/core/tenant.rs): the MQTT 5 user property
// "tenant", else the part before "@" of the username, else of the client id, else the default tenant.
func connectTenant(pk packets.Packet) string {
	for _, p := range pk.Properties.User {
		if p.Key == "tenant" && p.Val != "" {
			return p.Val
		}
	}
	for _, s := range []string{string(pk.Connect.Username), pk.Connect.ClientIdentifier} {
		if prefix, _, ok := strings.Cut(s, "@"); ok && prefix != "" {
			return prefix
		}
	}
	return DefaultTenant
}

// afterTenant is try_decode_username: "acme@alice" and "@alice" → "alice".
func afterTenant(s string) string {
	if _, suffix, ok := strings.Cut(s, "@"); ok {
		return suffix
	}
	return s
}

func (h *standinHook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := h.n.write(ctx, Op{Kind: "ping"}); err != nil {
		h.n.log.Logf("WARN", "subscribe of client %s refused: meta service not writable: %v", cl.ID, err)
		h.denySub.Store(cl.ID, true)
	}
	return pk
}

func (h *standinHook) OnSubscribed(cl *mqtt.Client, pk packets.Packet, codes []byte) {
	h.denySub.Delete(cl.ID)
}

func (h *standinHook) OnDisconnect(cl *mqtt.Client, err error, expire bool) { h.denySub.Delete(cl.ID) }

func (h *standinHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if _, deny := h.denySub.Load(cl.ID); deny && !write {
		return false
	}
	return true
}

func (h *standinHook) OnPublished(cl *mqtt.Client, pk packets.Packet) {
	if cl.Net.Inline {
		return // a delivery from another node: never forwarded again
	}
	d := Delivery{Topic: pk.TopicName, Payload: base64.StdEncoding.EncodeToString(pk.Payload), QoS: pk.FixedHeader.Qos, Retain: pk.FixedHeader.Retain}
	body, _ := json.Marshal(d)
	for _, b := range h.n.sortedRegistry() {
		if b.NodeID == h.n.cfg.BrokerID || !containsRole(b.Roles, "broker") {
			continue
		}
		go func(addr string) {
			resp, err := h.n.client.Post("http://"+addr+"/standin/v1/deliver", "application/json", bytes.NewReader(body))
			if err != nil {
				h.n.log.Logf("WARN", "forwarding a publication to %s: %v", addr, err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				h.n.log.Logf("WARN", "forwarding a publication to %s: HTTP %d", addr, resp.StatusCode)
			}
		}(b.GRPCAddr)
	}
}

// quietMQTT keeps the MQTT library's log to errors, without its packet dumps (a CONNECT dump would carry the
// password), and without the bolt hook's "key not found" for the $SYS record of a brand-new store, which is expected
// on a first start. Every probe and every client disconnect would otherwise log a warning.
type quietMQTT struct{ slog.Handler }

func (q quietMQTT) Enabled(ctx context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (q quietMQTT) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	drop := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "pk" {
			return true
		}
		if r.Message == "failed to get data" && a.Value.String() == "key not found" {
			drop = true
		}
		out.AddAttrs(a)
		return true
	})
	if drop {
		return nil
	}
	return q.Handler.Handle(ctx, out)
}

func (q quietMQTT) WithAttrs(as []slog.Attr) slog.Handler { return quietMQTT{q.Handler.WithAttrs(as)} }
func (q quietMQTT) WithGroup(g string) slog.Handler       { return quietMQTT{q.Handler.WithGroup(g)} }
