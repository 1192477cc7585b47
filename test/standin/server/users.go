package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The admin API's MQTT user routes, shaped like v0.4.11 (read at tag v0.4.11, not copied):
//   - src/admin-server/src/path.rs and server.rs: GET /api/cluster/user/list, POST /api/cluster/user/create,
//     POST /api/cluster/user/delete, behind the auth middleware like everything under /api;
//   - src/admin-server/src/cluster/user.rs: the request and row fields, "success" as the data of a write;
//   - src/admin-server/src/tool/extractor.rs (ValidatedJson) and tool/query.rs: HTTP 400 for a body that does not
//     parse or validate, the list's pagination (limit 10, page 1 by default) and sorting;
//   - src/common/base/src/http_response.rs: the envelope, always text/plain (the handlers return a String);
//   - src/meta-service/src/server/services/mqtt/user.rs: a duplicate or a missing user is refused by the meta service.
//
// The write goes through the meta leader like every stand-in write (Node.write): the leader persists it in its data
// dir, the node that took the call learns the leader's answer at once, the other meta nodes copy the leader's state on
// their next poll, and broker-only nodes on their next registration heartbeat (3 s). v0.4.11 pushes the change to
// every broker before it answers and re-reads all users every 5 s (src/common/security/src/sync.rs).

const (
	UserListPath   = "/api/cluster/user/list"
	UserCreatePath = "/api/cluster/user/create"
	UserDeletePath = "/api/cluster/user/delete"
)

// CreateUserReq is user.rs CreateUserReq: every field is required (serde has no default for any of them).
type CreateUserReq struct {
	Tenant      string `json:"tenant"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	IsSuperuser bool   `json:"is_superuser"`
}

// DeleteUserReq is user.rs DeleteUserReq.
type DeleteUserReq struct {
	Tenant   string `json:"tenant"`
	Username string `json:"username"`
}

// UserListRow is user.rs UserListRow, in its field order.
type UserListRow struct {
	Tenant      string `json:"tenant"`
	Username    string `json:"username"`
	IsSuperuser bool   `json:"is_superuser"`
	CreateTime  uint64 `json:"create_time"`
}

// PageReplyData is src/admin-server/src/tool/mod.rs PageReplyData.
type PageReplyData[T any] struct {
	Data       []T `json:"data"`
	TotalCount int `json:"total_count"`
}

const adminContentType = "text/plain; charset=utf-8"

func adminOK(w http.ResponseWriter, data any) {
	writeBody(w, http.StatusOK, adminContentType, AdminResponse{Code: 0, Data: data})
}

// adminFail is error_response: still HTTP 200 unless the extractor refused the request (400).
func adminFail(w http.ResponseWriter, status int, msg string) {
	writeBody(w, status, adminContentType, AdminResponse{Code: 100, Data: "", Error: &msg})
}

// grpcStatusText is how v0.4.11's admin server words a meta-service refusal: CommonError::GrpcServerStatus around
// tonic's Status Display (src/common/base/src/error/common.rs; the meta service answers Status::internal,
// src/meta-service/src/server/service_mqtt.rs). The real metadata carries the response headers (content-type, date);
// the stand-in's carries none, so match on the message only.
func grpcStatusText(msg string) string {
	return fmt.Sprintf("Grpc call of the node failed,Grpc status was status: Internal, message: %q, details: [], metadata: MetadataMap { headers: {} }", msg)
}

// decodeValidated reads a JSON body the way axum's Json extractor inside ValidatedJson does, with the same refusals:
// a wrong content type, a body that is not JSON, a missing field (in the struct's order), then the length rules.
func decodeValidated(w http.ResponseWriter, r *http.Request, required []string, into any, rules func() []string) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		adminFail(w, http.StatusBadRequest, "JSON parsing failed: Expected request with `Content-Type: application/json`")
		return false
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		adminFail(w, http.StatusBadRequest, "JSON parsing failed: Failed to parse the request body as JSON: "+err.Error())
		return false
	}
	// serde names the first missing field and where the object ended; the column is the stand-in's approximation
	col := len(bytes.TrimRight(body, " \r\n\t"))
	for _, f := range required {
		if _, ok := fields[f]; !ok {
			adminFail(w, http.StatusBadRequest, fmt.Sprintf("JSON parsing failed: Failed to deserialize the JSON body into the target type: missing field `%s` at line 1 column %d", f, col))
			return false
		}
	}
	if err := json.Unmarshal(body, into); err != nil {
		adminFail(w, http.StatusBadRequest, "JSON parsing failed: Failed to deserialize the JSON body into the target type: "+err.Error())
		return false
	}
	if msgs := rules(); len(msgs) > 0 {
		adminFail(w, http.StatusBadRequest, "Parameter validation failed: "+strings.Join(msgs, "; "))
		return false
	}
	return true
}

// lengthRule is validator's length(min, max) on a String: counted in characters.
func lengthRule(v string, min, max int, msg string) []string {
	if n := utf8.RuneCountInString(v); n < min || n > max {
		return []string{msg}
	}
	return nil
}

func tenantUserRules(tenant, username string) []string {
	return append(lengthRule(tenant, 1, 64, "Tenant length must be between 1-64"),
		lengthRule(username, 1, 64, "Username length must be between 1-64")...)
}

func (n *Node) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	var req CreateUserReq
	if !decodeValidated(w, r, []string{"tenant", "username", "password", "is_superuser"}, &req, func() []string {
		return append(tenantUserRules(req.Tenant, req.Username), lengthRule(req.Password, 1, 128, "Password length must be between 1-128")...)
	}) {
		return
	}
	u := MQTTUser{Tenant: req.Tenant, Username: req.Username, PasswordSHA256: hashPassword(req.Password),
		IsSuperuser: req.IsSuperuser, CreateTime: uint64(time.Now().Unix())}
	n.userWrite(w, r, Op{Kind: "user_create", User: u})
}

func (n *Node) handleUserDelete(w http.ResponseWriter, r *http.Request) {
	var req DeleteUserReq
	if !decodeValidated(w, r, []string{"tenant", "username"}, &req, func() []string {
		return tenantUserRules(req.Tenant, req.Username)
	}) {
		return
	}
	n.userWrite(w, r, Op{Kind: "user_delete", User: MQTTUser{Tenant: req.Tenant, Username: req.Username}})
}

func (n *Node) userWrite(w http.ResponseWriter, r *http.Request, op Op) {
	if _, err := n.write(r.Context(), op); err != nil {
		msg := err.Error()
		if me, ok := err.(*MetaError); ok {
			msg = grpcStatusText(me.Msg)
		}
		n.log.Logf("WARN", "admin %s of MQTT user %q (tenant %q) failed: %s", strings.TrimPrefix(op.Kind, "user_"), op.User.Username, op.User.Tenant, msg)
		adminFail(w, http.StatusOK, msg)
		return
	}
	n.log.Logf("INFO", "admin %s of MQTT user %q (tenant %q)", strings.TrimPrefix(op.Kind, "user_"), op.User.Username, op.User.Tenant)
	adminOK(w, "success")
}

// handleUserList lists the users this node knows (v0.4.11 reads the broker's own cache, not the meta service):
// tenant exact, user_name a substring of the username, then sorting (sort_field tenant|username, sort_by asc, else
// descending) and limit/page. filter_field/filter_values are not served.
// v0.4.11 walks a DashMap, so its unsorted order is arbitrary; the stand-in's is tenant, then username.
func (n *Node) handleUserList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	num := func(key string) (uint64, bool) {
		v := q.Get(key)
		if v == "" {
			return 0, true
		}
		x, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			http.Error(w, fmt.Sprintf("Failed to deserialize query string: %s: invalid digit found in string", key), http.StatusBadRequest)
			return 0, false
		}
		return x, true
	}
	limit, ok1 := num("limit")
	page, ok2 := num("page")
	if !ok1 || !ok2 {
		return
	}
	if limit == 0 {
		limit = 10
	}
	offset := uint64(0)
	if page > 0 {
		offset = (page - 1) * limit
	}
	_, users := n.view()
	rows := []UserListRow{}
	for tenant, m := range users {
		if t := q.Get("tenant"); q.Has("tenant") && t != tenant {
			continue
		}
		for _, u := range m {
			if q.Has("user_name") && !strings.Contains(u.Username, q.Get("user_name")) {
				continue
			}
			rows = append(rows, UserListRow{u.Tenant, u.Username, u.IsSuperuser, u.CreateTime})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Tenant != rows[j].Tenant {
			return rows[i].Tenant < rows[j].Tenant
		}
		return rows[i].Username < rows[j].Username
	})
	field := func(row UserListRow, f string) (string, bool) {
		switch f {
		case "tenant":
			return row.Tenant, true
		case "username":
			return row.Username, true
		}
		return "", false
	}
	if f := q.Get("sort_field"); f != "" {
		asc := q.Get("sort_by") == "asc"
		sort.SliceStable(rows, func(i, j int) bool {
			a, _ := field(rows[i], f)
			b, _ := field(rows[j], f)
			if asc {
				return a < b
			}
			return a > b
		})
	}
	total := len(rows)
	page0 := []UserListRow{}
	if offset < uint64(total) {
		page0 = rows[offset:min(uint64(total), offset+limit)]
	}
	adminOK(w, PageReplyData[UserListRow]{Data: page0, TotalCount: total})
}
