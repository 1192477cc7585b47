package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ClusterStatusPath is the gRPC-web route the chart's scripts POST to (lib.sh grpc_status).
const ClusterStatusPath = "/meta.service.common.MetaServiceService/ClusterStatus"

// grpcHandler serves grpc_port. The real port speaks gRPC over HTTP/2 with tonic-web on top; the stand-in speaks
// HTTP/1.1 only: gRPC-web ClusterStatus (the one call the chart makes) plus its own JSON routes under /standin/v1/
// between stand-ins. A real gRPC client (HTTP/2) gets nothing useful here.
func (n *Node) grpcHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ClusterStatusPath, n.handleClusterStatus)
	mux.HandleFunc("GET /standin/v1/state", func(w http.ResponseWriter, r *http.Request) {
		if n.meta == nil {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, http.StatusOK, n.meta.Snapshot())
	})
	mux.HandleFunc("POST /standin/v1/join", n.handleJoin)
	mux.HandleFunc("POST /standin/v1/write", n.handleWrite)
	mux.HandleFunc("POST /standin/v1/deliver", n.handleDeliver)
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (n *Node) handleClusterStatus(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/grpc-web") {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/grpc-web+proto")
	if n.meta == nil {
		// MetaServiceService is only registered on meta nodes (src/broker-server/src/grpc.rs): trailers-only Unimplemented
		w.Header().Set("grpc-status", "12")
		w.Header().Set("grpc-message", "Operation is not implemented or not supported")
		w.WriteHeader(http.StatusOK)
		return
	}
	content, _ := json.Marshal(n.meta.Metrics(time.Now()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(GRPCWebOK(ClusterStatusReply(string(content))))
}

func (n *Node) addrOf(id uint64) string {
	for _, a := range n.metaAddrs {
		if a.ID == id {
			return a.Addr
		}
	}
	return ""
}

func (n *Node) handleJoin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		NodeID  uint64 `json:"node_id"`
		RPCAddr string `json:"rpc_addr"`
	}
	if n.meta == nil || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	err := n.meta.AddVoter(time.Now(), req.NodeID, req.RPCAddr)
	if err == nil {
		writeJSON(w, http.StatusOK, n.meta.Snapshot())
		return
	}
	leader, _ := n.meta.Leader()
	if err == ErrNotLeader && leader != 0 && leader != n.cfg.BrokerID {
		writeJSON(w, http.StatusMisdirectedRequest, map[string]string{"forward_to": n.addrOf(leader)})
		return
	}
	msg := err.Error()
	if err == ErrNotLeader {
		msg = "has to forward request to: None, None"
	}
	http.Error(w, msg, http.StatusServiceUnavailable)
}

func (n *Node) handleWrite(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var op Op
	if n.meta == nil || json.Unmarshal(body, &op) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	reply, err := n.meta.Apply(time.Now(), op)
	if err == nil {
		writeJSON(w, http.StatusOK, reply)
		return
	}
	var refused *MetaError
	if errors.As(err, &refused) {
		// the leader's own answer (the user exists, is missing): a follower relays it as it is
		http.Error(w, refused.Msg, http.StatusUnprocessableEntity)
		return
	}
	leader, _ := n.meta.Leader()
	if err != ErrNotLeader || leader == 0 || leader == n.cfg.BrokerID || r.Header.Get("X-Standin-Forwarded") != "" {
		if err == ErrNotLeader {
			err = fmt.Errorf("has to forward request to: None, None (node %d knows no leader that answers)", n.cfg.BrokerID)
		}
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	addr := n.addrOf(leader)
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, "http://"+addr+"/standin/v1/write", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Standin-Forwarded", strconv.FormatUint(n.cfg.BrokerID, 10))
	resp, err := n.client.Do(req)
	if err != nil {
		http.Error(w, fmt.Sprintf("forward to leader %d (%s): %v", leader, addr, err), http.StatusServiceUnavailable)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// Delivery is one MQTT publication forwarded between stand-in brokers, so that a subscriber on one node receives what
// a client published on another (v0.4.11 does this through its storage engine; the stand-in just fans out).
type Delivery struct {
	Topic   string `json:"topic"`
	Payload string `json:"payload"` // base64
	QoS     byte   `json:"qos"`
	Retain  bool   `json:"retain"`
}

func (n *Node) handleDeliver(w http.ResponseWriter, r *http.Request) {
	var d Delivery
	if json.NewDecoder(r.Body).Decode(&d) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	payload, err := base64.StdEncoding.DecodeString(d.Payload)
	if err != nil || n.mqtt == nil {
		http.Error(w, "not delivering", http.StatusServiceUnavailable)
		return
	}
	if err := n.mqtt.Publish(d.Topic, payload, d.Retain, d.QoS); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
