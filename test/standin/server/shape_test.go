package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// node is a JSON value with object keys in document order, so that tests compare field order, not only field sets.
type node struct {
	kind string // object | array | string | number | bool | null
	keys []string
	kids []*node
}

func parseOrdered(t *testing.T, b []byte) *node {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	n, err := parseValue(d)
	if err != nil {
		t.Fatalf("parse %s: %v", b[:min(len(b), 200)], err)
	}
	return n
}

func parseValue(d *json.Decoder) (*node, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		n := &node{kind: "object"}
		if v == '[' {
			n.kind = "array"
		}
		for d.More() {
			if n.kind == "object" {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			kid, err := parseValue(d)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, kid)
		}
		_, err := d.Token()
		return n, err
	case string:
		return &node{kind: "string"}, nil
	case json.Number:
		return &node{kind: "number"}, nil
	case bool:
		return &node{kind: "bool"}, nil
	default:
		return &node{kind: "null"}, nil
	}
}

func (n *node) get(k string) *node {
	for i, key := range n.keys {
		if key == k {
			return n.kids[i]
		}
	}
	return nil
}

// sameShape reports where got differs from want: same keys in the same order, same types; a null on either side
// matches anything (Option fields are null or not depending on the cluster's state, not on the shape). Maps whose
// keys are data (shard names, node ids) are compared by the shape of their values only.
func sameShape(path string, want, got *node, dataKeyed map[string]bool) []string {
	if want.kind == "null" || got.kind == "null" {
		return nil
	}
	if want.kind != got.kind {
		return []string{fmt.Sprintf("%s: want %s, got %s", path, want.kind, got.kind)}
	}
	var diffs []string
	switch want.kind {
	case "object":
		if dataKeyed[lastSeg(path)] {
			if len(want.kids) > 0 && len(got.kids) > 0 {
				diffs = append(diffs, sameShape(path+".*", want.kids[0], got.kids[0], dataKeyed)...)
			}
			return diffs
		}
		if strings.Join(want.keys, ",") != strings.Join(got.keys, ",") {
			return []string{fmt.Sprintf("%s: keys want [%s], got [%s]", path, strings.Join(want.keys, ","), strings.Join(got.keys, ","))}
		}
		for i, k := range want.keys {
			diffs = append(diffs, sameShape(path+"."+k, want.kids[i], got.kids[i], dataKeyed)...)
		}
	case "array":
		if len(want.kids) > 0 && len(got.kids) > 0 {
			diffs = append(diffs, sameShape(path+"[]", want.kids[0], got.kids[0], dataKeyed)...)
		}
	}
	return diffs
}

func lastSeg(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// fixture reads test/fixtures/<name> and drops its _comment key.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// re-emit in document order without _comment
	d := json.NewDecoder(bytes.NewReader(b))
	var out bytes.Buffer
	out.WriteByte('{')
	_, _ = d.Token()
	first := true
	for d.More() {
		k, _ := d.Token()
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if k == "_comment" {
			continue
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		out.Write(kb)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes()
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
