package driver

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestUnescapeMountinfo(t *testing.T) {
	if got := unescapeMountinfo(`/a\040b\134c`); got != `/a b\c` {
		t.Fatalf("got %q", got)
	}
}

// The real bind mount needs CAP_SYS_ADMIN: CI runs as root (the real-node suite needs it anyway).
func TestBindMountReadOnlyAndIdempotent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bind mounts need root")
	}
	dir := t.TempDir()
	src, target := filepath.Join(dir, "src"), filepath.Join(dir, "target")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := BindMounter{}
	t.Cleanup(func() { _ = m.Unmount(target) })
	for i := 0; i < 2; i++ {
		if err := m.BindMount(src, target, true); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(target, "f")); err != nil || string(b) != "x" {
		t.Fatalf("read through the mount: %q %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(target, "g"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Fatalf("write to a read-only publish: %v", err)
	}
	if err := m.Unmount(target); err != nil {
		t.Fatal(err)
	}
	if mounted, err := IsMountPoint(target); err != nil || mounted {
		t.Fatalf("still mounted after one Unmount (stacked binds?): %v %v", mounted, err)
	}
}
