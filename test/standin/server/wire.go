package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The JSON shapes below follow v0.4.11 field for field and in field order (serde emits struct fields in declaration
// order): openraft 0.9 RaftMetrics for ClusterStatus, MetaStatus/ClusterInfoResp/BrokerNode for /api/info
// (test/fixtures/robustmq-api-info-3node.json), LoginResponse for /api/v1/login (test/fixtures/robustmq-login.json).

type LeaderID struct {
	Term   uint64 `json:"term"`
	NodeID uint64 `json:"node_id"`
}

type Vote struct {
	LeaderID  LeaderID `json:"leader_id"`
	Committed bool     `json:"committed"`
}

type LogID struct {
	LeaderID LeaderID `json:"leader_id"`
	Index    uint64   `json:"index"`
}

type RaftNode struct {
	NodeID  uint64 `json:"node_id"`
	RPCAddr string `json:"rpc_addr"`
}

type Membership struct {
	Configs [][]uint64          `json:"configs"`
	Nodes   map[string]RaftNode `json:"nodes"`
}

type StoredMembership struct {
	LogID      *LogID     `json:"log_id"`
	Membership Membership `json:"membership"`
}

var runningOK = json.RawMessage(`{"Ok":null}`)

// RaftMetrics is openraft 0.9's RaftMetrics as serde serializes it: what MetaServiceService/ClusterStatus returns per
// shard (src/meta-service/src/server/services/common/inner.rs). openraft 0.9 has no last_quorum_acked/heartbeat.
type RaftMetrics struct {
	RunningState         json.RawMessage   `json:"running_state"`
	ID                   uint64            `json:"id"`
	CurrentTerm          uint64            `json:"current_term"`
	Vote                 Vote              `json:"vote"`
	LastLogIndex         *uint64           `json:"last_log_index"`
	LastApplied          *LogID            `json:"last_applied"`
	Snapshot             *LogID            `json:"snapshot"`
	Purged               *LogID            `json:"purged"`
	State                string            `json:"state"`
	CurrentLeader        *uint64           `json:"current_leader"`
	MillisSinceQuorumAck *uint64           `json:"millis_since_quorum_ack"`
	MembershipConfig     StoredMembership  `json:"membership_config"`
	Replication          map[string]*LogID `json:"replication"`
}

// MetaStatus is RaftMetrics re-serialised through v0.4.11's MetaStatus (src/common/metadata-struct/src/meta/status.rs):
// last_log_index and last_applied are not optional there, last_quorum_acked/heartbeat are serde defaults.
type MetaStatus struct {
	RunningState         json.RawMessage    `json:"running_state"`
	ID                   uint64             `json:"id"`
	CurrentTerm          uint64             `json:"current_term"`
	Vote                 Vote               `json:"vote"`
	LastLogIndex         uint64             `json:"last_log_index"`
	LastApplied          LogID              `json:"last_applied"`
	Snapshot             *LogID             `json:"snapshot"`
	Purged               *LogID             `json:"purged"`
	State                string             `json:"state"`
	CurrentLeader        *uint64            `json:"current_leader"`
	MillisSinceQuorumAck *uint64            `json:"millis_since_quorum_ack"`
	LastQuorumAcked      uint64             `json:"last_quorum_acked"`
	MembershipConfig     metaStatusMembship `json:"membership_config"`
	Heartbeat            map[string]uint64  `json:"heartbeat"`
	Replication          map[string]*LogID  `json:"replication"`
}

type metaStatusMembship struct {
	LogID      LogID      `json:"log_id"`
	Membership Membership `json:"membership"`
}

// Shards is a shard-name → value map that keeps the order it was built in (metadata_0, offset_*, data_*), the order
// of the fixture; the server's own order is a HashMap's, so consumers never rely on it.
type Shards[T any] struct {
	Names  []string
	Values map[string]T
}

func (s Shards[T]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range s.Names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		v, err := json.Marshal(s.Values[n])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type MQTTExtend struct {
	GRPCAddr       string `json:"grpc_addr"`
	MQTTAddr       string `json:"mqtt_addr"`
	MQTTSAddr      string `json:"mqtts_addr"`
	WebsocketAddr  string `json:"websocket_addr"`
	WebsocketsAddr string `json:"websockets_addr"`
	QuicAddr       string `json:"quic_addr"`
}

type NatsExtend struct {
	TCPAddr string `json:"tcp_addr"`
	TLSAddr string `json:"tls_addr"`
	WSAddr  string `json:"ws_addr"`
	WSSAddr string `json:"wss_addr"`
}

type KafkaExtend struct {
	TCPAddr string `json:"tcp_addr"`
}

type NodeExtend struct {
	MQTT  MQTTExtend  `json:"mqtt"`
	Nats  NatsExtend  `json:"nats"`
	Kafka KafkaExtend `json:"kafka"`
}

// BrokerNode is a node registry entry (src/common/metadata-struct/src/meta/node.rs, filled in
// src/broker-core/src/cluster.rs register_node).
type BrokerNode struct {
	Roles        []string   `json:"roles"`
	Extend       NodeExtend `json:"extend"`
	NodeID       uint64     `json:"node_id"`
	NodeIP       string     `json:"node_ip"`
	GRPCAddr     string     `json:"grpc_addr"`
	HTTPAddr     string     `json:"http_addr"`
	EngineAddr   string     `json:"engine_addr"`
	StartTime    int64      `json:"start_time"`
	RegisterTime int64      `json:"register_time"`
	StorageFold  []string   `json:"storage_fold"`
}

// NodeOf is the registry entry a node registers for itself.
func NodeOf(c *Config, startTime int64) BrokerNode {
	ip := c.BrokerIP
	at := func(p int) string { return fmt.Sprintf("%s:%d", ip, p) }
	s := c.MQTTRuntime.Server
	fold := c.StorageRuntime.DataPath
	if fold == nil {
		fold = []string{}
	}
	return BrokerNode{
		Roles: c.Roles,
		Extend: NodeExtend{
			MQTT:  MQTTExtend{at(c.GRPCPort), at(s.TCPPort), at(s.TLSPort), at(s.WebsocketPort), at(s.WebsocketsPort), at(s.QuicPort)},
			Nats:  NatsExtend{at(c.NatsRuntime.TCPPort), at(c.NatsRuntime.TLSPort), at(c.NatsRuntime.WSPort), at(c.NatsRuntime.WSSPort)},
			Kafka: KafkaExtend{at(c.KafkaRuntime.TCPPort)},
		},
		NodeID: c.BrokerID, NodeIP: ip,
		GRPCAddr: at(c.GRPCPort), HTTPAddr: at(c.HTTPPort), EngineAddr: at(c.StorageRuntime.TCPPort),
		StartTime: startTime, StorageFold: fold,
	}
}

// ClusterInfoResp is the data of GET /api/info (src/admin-server/src/cluster/mod.rs).
type ClusterInfoResp struct {
	Version        string             `json:"version"`
	ClusterName    string             `json:"cluster_name"`
	StartTime      int64              `json:"start_time"`
	BrokerNodeList []BrokerNode       `json:"broker_node_list"`
	Meta           Shards[MetaStatus] `json:"meta"`
	Nodes          []string           `json:"nodes"`
}

// AdminResponse is /api/*'s envelope (src/common/base/src/http_response.rs): the field is `error`.
type AdminResponse struct {
	Code  int     `json:"code"`
	Data  any     `json:"data"`
	Error *string `json:"error"`
}

// LoginEnvelope is /api/v1/login's and the auth middleware's envelope (src/admin-server/src/auth.rs): the field is
// `message`.
type LoginEnvelope struct {
	Code    int    `json:"code"`
	Data    any    `json:"data"`
	Message string `json:"message"`
}

type LoginData struct {
	Token     string `json:"token"`
	ExpiresIn int64  `json:"expires_in"`
}

// ToMetaStatus re-serialises one shard's RaftMetrics as MetaStatus, failing where serde would: a node that has not
// bootstrapped or joined has last_log_index null, which MetaStatus declares as u64. The error text is serde_json's.
func ToMetaStatus(rawShard []byte) (MetaStatus, error) {
	var m RaftMetrics
	if err := json.Unmarshal(rawShard, &m); err != nil {
		return MetaStatus{}, err
	}
	col := func(field string) int {
		i := bytes.Index(rawShard, []byte(`"`+field+`":null`))
		return i + len(field) + len(`"":null`)
	}
	if m.LastLogIndex == nil {
		return MetaStatus{}, fmt.Errorf("invalid type: null, expected u64 at line 1 column %d", col("last_log_index"))
	}
	if m.LastApplied == nil {
		return MetaStatus{}, fmt.Errorf("invalid type: null, expected struct LastApplied at line 1 column %d", col("last_applied"))
	}
	if m.MembershipConfig.LogID == nil {
		return MetaStatus{}, fmt.Errorf("invalid type: null, expected struct LogId at line 1 column %d", col("log_id"))
	}
	return MetaStatus{
		RunningState: runningOK, ID: m.ID, CurrentTerm: m.CurrentTerm, Vote: m.Vote,
		LastLogIndex: *m.LastLogIndex, LastApplied: *m.LastApplied, Snapshot: m.Snapshot, Purged: m.Purged,
		State: m.State, CurrentLeader: m.CurrentLeader, MillisSinceQuorumAck: m.MillisSinceQuorumAck,
		MembershipConfig: metaStatusMembship{LogID: *m.MembershipConfig.LogID, Membership: m.MembershipConfig.Membership},
		Heartbeat:        map[string]uint64{}, Replication: m.Replication,
	}, nil
}

// --- gRPC-web ---------------------------------------------------------------------------------------------------

// GRPCWebFrame frames a payload as gRPC-web does: flag byte (0 data, 0x80 trailers), 4-byte big-endian length.
func GRPCWebFrame(flag byte, payload []byte) []byte {
	out := make([]byte, 5, 5+len(payload))
	out[0] = flag
	binary.BigEndian.PutUint32(out[1:], uint32(len(payload)))
	return append(out, payload...)
}

// ClusterStatusReply encodes meta.service.common.ClusterStatusReply { string content = 1; } (src/protocol/src/meta/common.proto).
func ClusterStatusReply(content string) []byte {
	msg := []byte{0x0a}
	msg = binary.AppendUvarint(msg, uint64(len(content)))
	return append(msg, content...)
}

// GRPCWebOK is a whole unary gRPC-web response body with status 0, as tonic-web writes it.
func GRPCWebOK(msg []byte) []byte {
	return append(GRPCWebFrame(0, msg), GRPCWebFrame(0x80, []byte("grpc-status:0\r\n"))...)
}

// ParseGRPCWebReply is the reverse of GRPCWebOK + ClusterStatusReply, for the stand-in's own /api/info and the tests.
func ParseGRPCWebReply(body []byte) (string, error) {
	if len(body) < 5 || body[0] != 0 {
		return "", errors.New("no gRPC-web data frame")
	}
	n := binary.BigEndian.Uint32(body[1:5])
	if uint32(len(body)-5) < n {
		return "", errors.New("short gRPC-web frame")
	}
	msg := body[5 : 5+n]
	if len(msg) == 0 {
		return "", nil
	}
	if msg[0] != 0x0a {
		return "", errors.New("unexpected protobuf field")
	}
	l, k := binary.Uvarint(msg[1:])
	if k <= 0 || uint64(len(msg)-1-k) < l {
		return "", errors.New("bad protobuf length")
	}
	return string(msg[1+k : 1+k+int(l)]), nil
}

// --- admin JWT (HS256, claims {sub, exp, iat}, src/admin-server/src/auth.rs) ----------------------------------------

var b64 = base64.RawURLEncoding

func SignJWT(secret, sub string, now time.Time, ttl time.Duration) string {
	head := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))
	claims, _ := json.Marshal(struct {
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
		Iat int64  `json:"iat"`
	}{sub, now.Add(ttl).Unix(), now.Unix()})
	body := head + "." + b64.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return body + "." + b64.EncodeToString(mac.Sum(nil))
}

func VerifyJWT(secret, token string, now time.Time) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return false
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	return json.Unmarshal(raw, &c) == nil && c.Exp > now.Unix()
}
