package driver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Store keeps volumes and snapshots as plain directories under one root:
//
//	ROOT/volumes/<id>/        the volume's files (what NodePublishVolume bind-mounts)
//	ROOT/volumes/<id>.json    its record
//	ROOT/snapshots/<id>/      a full copy of the source volume's files at CreateSnapshot time
//	ROOT/snapshots/<id>.json  its record
//
// IDs are the names the sidecars pass (pvc-<uid>, snapshot-<uid>): they are unique per cluster and make every
// Create call idempotent without an index. A record is written last, after the directory is complete, so a
// crash mid-copy leaves no half volume that a retry would mistake for a finished one.
type Store struct {
	root string
	mu   sync.Mutex
}

type VolumeRecord struct {
	ID             string `json:"id"`
	CapacityBytes  int64  `json:"capacityBytes"`
	SourceSnapshot string `json:"sourceSnapshot,omitempty"`
}

type SnapshotRecord struct {
	ID             string `json:"id"`
	SourceVolumeID string `json:"sourceVolumeId"`
	CreatedUnixNs  int64  `json:"createdUnixNs"`
	SizeBytes      int64  `json:"sizeBytes"`
}

var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists with different parameters")
	ErrInvalidName   = errors.New("invalid name")
)

// Names become path components: anything but these could escape the root or collide with a record file.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func NewStore(root string) (*Store, error) {
	for _, d := range []string{"volumes", "snapshots"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, err
		}
	}
	return &Store{root: root}, nil
}

func (s *Store) VolumeDir(id string) string   { return filepath.Join(s.root, "volumes", id) }
func (s *Store) snapshotDir(id string) string { return filepath.Join(s.root, "snapshots", id) }

func checkName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return nil
}

// CreateVolume makes an empty volume, or a copy of a snapshot's files when fromSnapshot is set.
func (s *Store) CreateVolume(name string, capacity int64, fromSnapshot string) (VolumeRecord, error) {
	if err := checkName(name); err != nil {
		return VolumeRecord{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var existing VolumeRecord
	if err := readRecord(s.VolumeDir(name)+".json", &existing); err == nil {
		if existing.SourceSnapshot != fromSnapshot || existing.CapacityBytes < capacity {
			return VolumeRecord{}, fmt.Errorf("volume %s: %w", name, ErrAlreadyExists)
		}
		return existing, nil
	}
	tmp := s.VolumeDir("." + name + ".tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return VolumeRecord{}, err
	}
	if fromSnapshot != "" {
		if err := checkName(fromSnapshot); err != nil {
			return VolumeRecord{}, err
		}
		if _, err := s.getSnapshotLocked(fromSnapshot); err != nil {
			return VolumeRecord{}, err
		}
		if err := copyTree(s.snapshotDir(fromSnapshot), tmp); err != nil {
			return VolumeRecord{}, fmt.Errorf("restoring snapshot %s: %w", fromSnapshot, err)
		}
	} else if err := os.Mkdir(tmp, 0o755); err != nil {
		return VolumeRecord{}, err
	}
	dir := s.VolumeDir(name)
	if err := os.RemoveAll(dir); err != nil {
		return VolumeRecord{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return VolumeRecord{}, err
	}
	rec := VolumeRecord{ID: name, CapacityBytes: capacity, SourceSnapshot: fromSnapshot}
	return rec, writeRecord(dir+".json", rec)
}

func (s *Store) GetVolume(id string) (VolumeRecord, error) {
	if err := checkName(id); err != nil {
		return VolumeRecord{}, fmt.Errorf("volume %q: %w", id, ErrNotFound)
	}
	var rec VolumeRecord
	if err := readRecord(s.VolumeDir(id)+".json", &rec); err != nil {
		return VolumeRecord{}, fmt.Errorf("volume %s: %w", id, ErrNotFound)
	}
	return rec, nil
}

// DeleteVolume removes the record first: a volume without one is gone as far as every other call is concerned.
func (s *Store) DeleteVolume(id string) error {
	if err := checkName(id); err != nil {
		return nil // no volume can have that id: already "deleted"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.VolumeDir(id) + ".json"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.RemoveAll(s.VolumeDir(id))
}

// CreateSnapshot copies the volume's files as they are now. No quiescing: a writer that is mid-write gets a torn
// file in the snapshot, as with any crash-consistent snapshot.
func (s *Store) CreateSnapshot(name, sourceVolume string) (SnapshotRecord, error) {
	if err := checkName(name); err != nil {
		return SnapshotRecord{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if existing, err := s.getSnapshotLocked(name); err == nil {
		if existing.SourceVolumeID != sourceVolume {
			return SnapshotRecord{}, fmt.Errorf("snapshot %s: %w", name, ErrAlreadyExists)
		}
		return existing, nil
	}
	if _, err := s.GetVolume(sourceVolume); err != nil {
		return SnapshotRecord{}, err
	}
	tmp := s.snapshotDir("." + name + ".tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return SnapshotRecord{}, err
	}
	if err := copyTree(s.VolumeDir(sourceVolume), tmp); err != nil {
		return SnapshotRecord{}, fmt.Errorf("copying volume %s: %w", sourceVolume, err)
	}
	size, err := treeSize(tmp)
	if err != nil {
		return SnapshotRecord{}, err
	}
	dir := s.snapshotDir(name)
	if err := os.RemoveAll(dir); err != nil {
		return SnapshotRecord{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return SnapshotRecord{}, err
	}
	rec := SnapshotRecord{ID: name, SourceVolumeID: sourceVolume, CreatedUnixNs: time.Now().UnixNano(), SizeBytes: size}
	return rec, writeRecord(dir+".json", rec)
}

func (s *Store) GetSnapshot(id string) (SnapshotRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getSnapshotLocked(id)
}

func (s *Store) getSnapshotLocked(id string) (SnapshotRecord, error) {
	if err := checkName(id); err != nil {
		return SnapshotRecord{}, fmt.Errorf("snapshot %q: %w", id, ErrNotFound)
	}
	var rec SnapshotRecord
	if err := readRecord(s.snapshotDir(id)+".json", &rec); err != nil {
		return SnapshotRecord{}, fmt.Errorf("snapshot %s: %w", id, ErrNotFound)
	}
	return rec, nil
}

func (s *Store) DeleteSnapshot(id string) error {
	if err := checkName(id); err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.snapshotDir(id) + ".json"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.RemoveAll(s.snapshotDir(id))
}

// ListSnapshots returns every snapshot, oldest first (a stable order, so a page token is an index).
func (s *Store) ListSnapshots() ([]SnapshotRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := os.ReadDir(filepath.Join(s.root, "snapshots"))
	if err != nil {
		return nil, err
	}
	var out []SnapshotRecord
	for _, e := range entries {
		var rec SnapshotRecord
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		if err := readRecord(filepath.Join(s.root, "snapshots", e.Name()), &rec); err == nil {
			out = append(out, rec)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreatedUnixNs != out[j].CreatedUnixNs {
			return out[i].CreatedUnixNs < out[j].CreatedUnixNs
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func readRecord(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeRecord(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// copyTree copies src to dst (which must not exist) keeping modes, owners and symlinks: the kubelet applies a
// pod's fsGroup to the volume, and a restored volume must come back with the same owners, as a block-level
// snapshot would.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch mode := info.Mode(); {
		case mode.IsDir():
			if err := os.Mkdir(target, 0o700); err != nil {
				return err
			}
		case mode&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case mode.IsRegular():
			if err := copyFile(p, target); err != nil {
				return err
			}
		default:
			return nil // sockets, fifos, devices: nothing a volume backup needs to carry
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			if err := os.Lchown(target, int(st.Uid), int(st.Gid)); err != nil {
				return err
			}
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			// after chown, which clears setuid/setgid bits
			if err := os.Chmod(target, info.Mode()&(fs.ModePerm|fs.ModeSetgid|fs.ModeSetuid|fs.ModeSticky)); err != nil {
				return err
			}
			return os.Chtimes(target, info.ModTime(), info.ModTime())
		}
		return nil
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func treeSize(dir string) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			size += info.Size()
		}
		return nil
	})
	return size, err
}
