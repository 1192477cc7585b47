// Package server is the TEST-ONLY stand-in for RobustMQ v0.4.11's broker-server: it serves the surfaces the chart's
// scripts and the robustmq-install CLI touch (MQTT, admin HTTP, gRPC-web ClusterStatus), nothing else. See
// docs/standin.md for what each behaviour is tied to.
package server

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config holds the server.toml keys the stand-in reads. Defaults are v0.4.11's (test/fixtures/robustmq-config-v0.4.11.json).
type Config struct {
	ClusterName string            `toml:"cluster_name"`
	BrokerID    uint64            `toml:"broker_id"`
	BrokerIP    string            `toml:"broker_ip"`
	Roles       []string          `toml:"roles"`
	GRPCPort    int               `toml:"grpc_port"`
	HTTPPort    int               `toml:"http_port"`
	MetaAddrs   map[string]string `toml:"meta_addrs"`
	DataPath    string            `toml:"data_path"`

	BrokerNetwork struct {
		TLSCert string `toml:"tls_cert"`
		TLSKey  string `toml:"tls_key"`
	} `toml:"broker_network"`
	MetaRuntime struct {
		OffsetRaftGroupNum int `toml:"offset_raft_group_num"`
		DataRaftGroupNum   int `toml:"data_raft_group_num"`
	} `toml:"meta_runtime"`
	StorageRuntime struct {
		TCPPort  int      `toml:"tcp_port"`
		DataPath []string `toml:"data_path"`
	} `toml:"storage_runtime"`
	Admin struct {
		Username      string `toml:"username"`
		Password      string `toml:"password"`
		JWTSecret     string `toml:"jwt_secret"`
		TokenTTLHours int    `toml:"token_ttl_hours"`
	} `toml:"admin"`
	MQTTRuntime struct {
		Server struct {
			TCPPort        int `toml:"tcp_port"`
			TLSPort        int `toml:"tls_port"`
			WebsocketPort  int `toml:"websocket_port"`
			WebsocketsPort int `toml:"websockets_port"`
			QuicPort       int `toml:"quic_port"`
		} `toml:"server"`
		Auth struct {
			DefaultUser     string `toml:"default_user"`
			DefaultPassword string `toml:"default_password"`
			SecretFreeLogin bool   `toml:"secret_free_login"`
		} `toml:"auth"`
	} `toml:"mqtt_runtime"`
	NatsRuntime struct {
		TCPPort int `toml:"tcp_port"`
		TLSPort int `toml:"tls_port"`
		WSPort  int `toml:"ws_port"`
		WSSPort int `toml:"wss_port"`
	} `toml:"nats_runtime"`
	KafkaRuntime struct {
		TCPPort int `toml:"tcp_port"`
	} `toml:"kafka_runtime"`
}

// MetaAddr is one entry of meta_addrs, in the server's iteration order.
type MetaAddr struct {
	ID   uint64
	Addr string
}

func defaults() *Config {
	c := &Config{
		ClusterName: "robust_mq_cluster_default",
		BrokerID:    1,
		Roles:       []string{"broker", "meta"},
		GRPCPort:    1228,
		HTTPPort:    58080,
		MetaAddrs:   map[string]string{"1": "127.0.0.1:1228"},
		DataPath:    "./data",
	}
	c.BrokerNetwork.TLSCert = "./config/certs/cert.pem"
	c.BrokerNetwork.TLSKey = "./config/certs/key.pem"
	c.MetaRuntime.OffsetRaftGroupNum = 1
	c.MetaRuntime.DataRaftGroupNum = 1
	c.StorageRuntime.TCPPort = 1779
	c.Admin.Username = "admin"
	c.Admin.Password = "admin"
	c.Admin.JWTSecret = "robustmq-change-me-in-production"
	c.Admin.TokenTTLHours = 8
	s := &c.MQTTRuntime.Server
	s.TCPPort, s.TLSPort, s.WebsocketPort, s.WebsocketsPort, s.QuicPort = 1883, 1885, 8083, 8085, 9083
	c.MQTTRuntime.Auth.DefaultUser = "admin"
	c.MQTTRuntime.Auth.DefaultPassword = "robustmq"
	n := &c.NatsRuntime
	n.TCPPort, n.TLSPort, n.WSPort, n.WSSPort = 4222, 4223, 4080, 4443
	c.KafkaRuntime.TCPPort = 9092
	return c
}

// LoadConfig reads server.toml the way v0.4.11 does: ROBUST_MQ_SERVER_* variables rewrite existing lines first
// (src/common/config/src/common.rs), unknown keys are ignored, relative paths stay relative to the working directory.
func LoadConfig(path string, environ []string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	text := EnvOverride(string(raw), environ)
	c := defaults()
	var present struct {
		Roles     []string          `toml:"roles"`
		MetaAddrs map[string]string `toml:"meta_addrs"`
	}
	if _, err := toml.Decode(text, &present); err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	// a present table replaces the default one instead of merging into it
	c.MetaAddrs = nil
	c.Roles = nil
	if _, err := toml.Decode(text, c); err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	if present.MetaAddrs == nil {
		c.MetaAddrs = map[string]string{"1": "127.0.0.1:1228"}
	}
	if present.Roles == nil {
		c.Roles = []string{"broker", "meta"}
	}
	if c.BrokerIP == "" {
		c.BrokerIP = "127.0.0.1"
		if ip := lookupEnv(environ, "ROBUSTMQ_BROKER_IP"); ip != "" {
			c.BrokerIP = ip
		}
	}
	return c, nil
}

func lookupEnv(environ []string, key string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// EnvOverride is v0.4.11's text substitution: for each `key = value` line under the last [section] header,
// ROBUST_MQ_SERVER_<SECTION>_<KEY> (dots to underscores, upper case), when set even to "", replaces the value raw.
func EnvOverride(text string, environ []string) string {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "ROBUST_MQ_SERVER") {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return text
	}
	lines := strings.Split(text, "\n")
	section := ""
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			// like v0.4.11: the header minus its first '[' and one trailing ']' ("[[a]]" gives "[a]")
			section = strings.TrimSuffix(strings.ReplaceAll(t, " ", "")[1:], "]")
			continue
		}
		before, _, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(t, "#") {
			continue
		}
		key := strings.TrimSpace(before)
		name := "ROBUST_MQ_SERVER"
		if section != "" {
			name += "_" + section
		}
		name = strings.ToUpper(strings.ReplaceAll(name+"_"+key, ".", "_"))
		if v, ok := env[name]; ok {
			lines[i] = before + "=" + v
		}
	}
	return strings.Join(lines, "\n")
}

// HasRole reports whether roles contains r.
func (c *Config) HasRole(r string) bool {
	for _, x := range c.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// SortedMetaAddrs is meta_addrs in v0.4.11's iteration order: toml's Table is a BTreeMap, so string order of the ids
// ("1" < "10" < "2"); keys that are not numbers are skipped as peers (src/meta-service/src/raft/manager.rs).
func (c *Config) SortedMetaAddrs() []MetaAddr {
	keys := make([]string, 0, len(c.MetaAddrs))
	for k := range c.MetaAddrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]MetaAddr, 0, len(keys))
	for _, k := range keys {
		id, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, MetaAddr{ID: id, Addr: c.MetaAddrs[k]})
	}
	return out
}

// ShardNames are the Raft groups v0.4.11 runs: metadata_0, offset_0..N-1, data_0..M-1 (src/meta-service/src/raft/group.rs).
func (c *Config) ShardNames() []string {
	names := []string{"metadata_0"}
	for i := 0; i < max(c.MetaRuntime.OffsetRaftGroupNum, 1); i++ {
		names = append(names, fmt.Sprintf("offset_%d", i))
	}
	for i := 0; i < max(c.MetaRuntime.DataRaftGroupNum, 1); i++ {
		names = append(names, fmt.Sprintf("data_%d", i))
	}
	return names
}
