package driver

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Mounter is the node side's only contact with the kernel, so the controller logic is testable without root.
type Mounter interface {
	BindMount(source, target string, readOnly bool) error
	Unmount(target string) error
}

type BindMounter struct{}

// BindMount is idempotent: the kubelet retries NodePublishVolume after timeouts, and a second bind on the same
// target would stack mounts that one NodeUnpublishVolume would not undo.
func (BindMounter) BindMount(source, target string, readOnly bool) error {
	if err := os.MkdirAll(target, 0o750); err != nil {
		return err
	}
	mounted, err := IsMountPoint(target)
	if err != nil || mounted {
		return err
	}
	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %w", source, err)
	}
	if readOnly {
		// A bind mount takes MS_RDONLY only on a remount of itself.
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			_ = unix.Unmount(target, 0)
			return fmt.Errorf("remount read-only: %w", err)
		}
	}
	return nil
}

func (BindMounter) Unmount(target string) error {
	for {
		mounted, err := IsMountPoint(target)
		if err != nil || !mounted {
			return err
		}
		if err := unix.Unmount(target, 0); err != nil {
			return err
		}
	}
}

// IsMountPoint reads /proc/self/mountinfo rather than comparing device numbers: a bind mount of a directory of
// the same filesystem has the same device as its parent.
func IsMountPoint(path string) (bool, error) {
	want := filepath.Clean(path)
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMountinfo(fields[4]) == want {
			return true, nil
		}
	}
	return false, sc.Err()
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
