package driver

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

type fakeMounter struct {
	mounted map[string]string // target -> source
	ro      map[string]bool
}

func (f *fakeMounter) BindMount(source, target string, readOnly bool) error {
	f.mounted[target] = source
	f.ro[target] = readOnly
	return os.MkdirAll(target, 0o750)
}

func (f *fakeMounter) Unmount(target string) error {
	delete(f.mounted, target)
	return nil
}

// The driver behind a real gRPC server on a unix socket, as the sidecars and the kubelet reach it.
func startDriver(t *testing.T) (*grpc.ClientConn, *fakeMounter, string) {
	t.Helper()
	dir := t.TempDir()
	store, err := NewStore(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	mounts := &fakeMounter{mounted: map[string]string{}, ro: map[string]bool{}}
	srv := grpc.NewServer()
	New(store, "node-1", mounts).Register(srv)
	NewRegistration(filepath.Join(dir, "csi.sock")).Register(srv)
	sock := filepath.Join(dir, "csi.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, mounts, dir
}

var mountCap = []*csi.VolumeCapability{{
	AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
	AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
}}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("want %v, got %v", code, err)
	}
}

func TestIdentityAndCapabilities(t *testing.T) {
	conn, _, _ := startDriver(t)
	ctx := context.Background()
	info, err := csi.NewIdentityClient(conn).GetPluginInfo(ctx, &csi.GetPluginInfoRequest{})
	if err != nil || info.GetName() != "hostpath.csi.robustmq-install.test" {
		t.Fatalf("GetPluginInfo: %v %v", info, err)
	}
	pc, err := csi.NewIdentityClient(conn).GetPluginCapabilities(ctx, &csi.GetPluginCapabilitiesRequest{})
	if err != nil || pc.GetCapabilities()[0].GetService().GetType() != csi.PluginCapability_Service_CONTROLLER_SERVICE {
		t.Fatalf("GetPluginCapabilities: %v %v", pc, err)
	}
	cc, err := csi.NewControllerClient(conn).ControllerGetCapabilities(ctx, &csi.ControllerGetCapabilitiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[csi.ControllerServiceCapability_RPC_Type]bool{}
	for _, c := range cc.GetCapabilities() {
		got[c.GetRpc().GetType()] = true
	}
	for _, want := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME, csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
		csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
	} {
		if !got[want] {
			t.Errorf("missing controller capability %v", want)
		}
	}
	ni, err := csi.NewNodeClient(conn).NodeGetInfo(ctx, &csi.NodeGetInfoRequest{})
	if err != nil || ni.GetNodeId() != "node-1" {
		t.Fatalf("NodeGetInfo: %v %v", ni, err)
	}
}

func TestRegistrationNamesTheCSISocket(t *testing.T) {
	conn, _, dir := startDriver(t)
	info, err := registerapi.NewRegistrationClient(conn).GetInfo(context.Background(), &registerapi.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetType() != "CSIPlugin" || info.GetName() != Name || info.GetEndpoint() != filepath.Join(dir, "csi.sock") {
		t.Fatalf("GetInfo: %v", info)
	}
	if _, err := registerapi.NewRegistrationClient(conn).NotifyRegistrationStatus(context.Background(), &registerapi.RegistrationStatus{PluginRegistered: true}); err != nil {
		t.Fatal(err)
	}
}

// The path backup/restore takes: write, snapshot, change the volume, restore: the restored volume has the files as
// they were at the snapshot, with their modes and owners; the source volume is untouched by the restore.
func TestSnapshotAndRestore(t *testing.T) {
	conn, mounts, dir := startDriver(t)
	ctx := context.Background()
	ctl := csi.NewControllerClient(conn)
	vol, err := ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "pvc-a", VolumeCapabilities: mountCap,
		CapacityRange: &csi.CapacityRange{RequiredBytes: 5 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if vol.GetVolume().GetCapacityBytes() != 5<<20 {
		t.Fatalf("capacity %d", vol.GetVolume().GetCapacityBytes())
	}
	// idempotent: the provisioner retries CreateVolume with the same name
	again, err := ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "pvc-a", VolumeCapabilities: mountCap,
		CapacityRange: &csi.CapacityRange{RequiredBytes: 5 << 20}})
	if err != nil || again.GetVolume().GetVolumeId() != vol.GetVolume().GetVolumeId() {
		t.Fatalf("second CreateVolume: %v %v", again, err)
	}

	target := filepath.Join(dir, "pods", "a", "mount")
	node := csi.NewNodeClient(conn)
	if _, err := node.NodePublishVolume(ctx, &csi.NodePublishVolumeRequest{VolumeId: "pvc-a", TargetPath: target, VolumeCapability: mountCap[0]}); err != nil {
		t.Fatal(err)
	}
	src := mounts.mounted[target]
	if src == "" || mounts.ro[target] {
		t.Fatalf("publish: mounted %q ro=%v", src, mounts.ro[target])
	}
	if err := os.Mkdir(filepath.Join(src, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	// what the kubelet's fsGroup handling leaves on a directory
	if err := os.Chmod(filepath.Join(src, "sub"), 0o775|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "data.txt"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "sub", "data.txt"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/data.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}

	snap, err := ctl.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "snapshot-1", SourceVolumeId: "pvc-a"})
	if err != nil {
		t.Fatal(err)
	}
	s := snap.GetSnapshot()
	if !s.GetReadyToUse() || s.GetSizeBytes() != 5 || s.GetSourceVolumeId() != "pvc-a" || s.GetCreationTime() == nil {
		t.Fatalf("snapshot %v", s)
	}
	if _, err := ctl.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "snapshot-1", SourceVolumeId: "pvc-other"}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("same name, other source: %v", err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "data.txt"), []byte("changed after the snapshot"), 0o640); err != nil {
		t.Fatal(err)
	}

	restored, err := ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "pvc-b", VolumeCapabilities: mountCap,
		VolumeContentSource: &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: "snapshot-1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if restored.GetVolume().GetContentSource().GetSnapshot().GetSnapshotId() != "snapshot-1" {
		t.Fatalf("content source not reported: %v", restored.GetVolume())
	}
	target2 := filepath.Join(dir, "pods", "b", "mount")
	if _, err := node.NodePublishVolume(ctx, &csi.NodePublishVolumeRequest{VolumeId: "pvc-b", TargetPath: target2, VolumeCapability: mountCap[0], Readonly: true}); err != nil {
		t.Fatal(err)
	}
	if !mounts.ro[target2] {
		t.Fatal("readonly publish not passed to the mount")
	}
	rsrc := mounts.mounted[target2]
	b, err := os.ReadFile(filepath.Join(rsrc, "link"))
	if err != nil || string(b) != "hello" {
		t.Fatalf("restored file through the symlink: %q %v", b, err)
	}
	fi, err := os.Stat(filepath.Join(rsrc, "sub"))
	if err != nil || fi.Mode()&os.ModeSetgid == 0 || fi.Mode().Perm() != 0o775 {
		t.Fatalf("restored dir mode: %v %v", fi.Mode(), err)
	}
	if fi, _ := os.Stat(filepath.Join(rsrc, "sub", "data.txt")); fi.Mode().Perm() != 0o640 {
		t.Fatalf("restored file mode: %v", fi.Mode())
	}

	if _, err := node.NodeUnpublishVolume(ctx, &csi.NodeUnpublishVolumeRequest{VolumeId: "pvc-b", TargetPath: target2}); err != nil {
		t.Fatal(err)
	}
	if _, ok := mounts.mounted[target2]; ok {
		t.Fatal("still mounted after NodeUnpublishVolume")
	}
	if _, err := os.Stat(target2); !os.IsNotExist(err) {
		t.Fatalf("target dir left: %v", err)
	}
	// a retried unpublish of a gone target succeeds
	if _, err := node.NodeUnpublishVolume(ctx, &csi.NodeUnpublishVolumeRequest{VolumeId: "pvc-b", TargetPath: target2}); err != nil {
		t.Fatal(err)
	}
}

func TestListSnapshotsAndDeletes(t *testing.T) {
	conn, _, _ := startDriver(t)
	ctx := context.Background()
	ctl := csi.NewControllerClient(conn)
	for _, v := range []string{"pvc-1", "pvc-2"} {
		if _, err := ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: v, VolumeCapabilities: mountCap}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range [][2]string{{"snap-1", "pvc-1"}, {"snap-2", "pvc-1"}, {"snap-3", "pvc-2"}} {
		if _, err := ctl.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: s[0], SourceVolumeId: s[1]}); err != nil {
			t.Fatal(err)
		}
	}
	// by id: what the snapshotter asks for a pre-provisioned content
	byID, err := ctl.ListSnapshots(ctx, &csi.ListSnapshotsRequest{SnapshotId: "snap-2"})
	if err != nil || len(byID.GetEntries()) != 1 || byID.GetEntries()[0].GetSnapshot().GetSourceVolumeId() != "pvc-1" || !byID.GetEntries()[0].GetSnapshot().GetReadyToUse() {
		t.Fatalf("by id: %v %v", byID, err)
	}
	unknown, err := ctl.ListSnapshots(ctx, &csi.ListSnapshotsRequest{SnapshotId: "no-such"})
	if err != nil || len(unknown.GetEntries()) != 0 {
		t.Fatalf("unknown id: %v %v", unknown, err)
	}
	bySource, err := ctl.ListSnapshots(ctx, &csi.ListSnapshotsRequest{SourceVolumeId: "pvc-1"})
	if err != nil || len(bySource.GetEntries()) != 2 {
		t.Fatalf("by source: %v %v", bySource, err)
	}
	page1, err := ctl.ListSnapshots(ctx, &csi.ListSnapshotsRequest{MaxEntries: 2})
	if err != nil || len(page1.GetEntries()) != 2 || page1.GetNextToken() == "" {
		t.Fatalf("page 1: %v %v", page1, err)
	}
	page2, err := ctl.ListSnapshots(ctx, &csi.ListSnapshotsRequest{MaxEntries: 2, StartingToken: page1.GetNextToken()})
	if err != nil || len(page2.GetEntries()) != 1 || page2.GetNextToken() != "" {
		t.Fatalf("page 2: %v %v", page2, err)
	}
	_, err = ctl.ListSnapshots(ctx, &csi.ListSnapshotsRequest{StartingToken: "99"})
	wantCode(t, err, codes.Aborted)

	// a snapshot outlives its source volume (Retain: the content is kept after the namespace is gone)
	if _, err := ctl.DeleteVolume(ctx, &csi.DeleteVolumeRequest{VolumeId: "pvc-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "pvc-r", VolumeCapabilities: mountCap,
		VolumeContentSource: &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: "snap-1"}}}}); err != nil {
		t.Fatalf("restore after the source volume is gone: %v", err)
	}
	for i := 0; i < 2; i++ { // idempotent deletes
		if _, err := ctl.DeleteSnapshot(ctx, &csi.DeleteSnapshotRequest{SnapshotId: "snap-1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := ctl.DeleteVolume(ctx, &csi.DeleteVolumeRequest{VolumeId: "pvc-1"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "pvc-x", VolumeCapabilities: mountCap,
		VolumeContentSource: &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: "snap-1"}}}})
	wantCode(t, err, codes.NotFound)
	_, err = ctl.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "snap-9", SourceVolumeId: "pvc-1"})
	wantCode(t, err, codes.NotFound)
}

func TestRejectsWhatItCannotDo(t *testing.T) {
	conn, _, _ := startDriver(t)
	ctx := context.Background()
	ctl := csi.NewControllerClient(conn)
	block := []*csi.VolumeCapability{{AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}}}}
	_, err := ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "pvc-blk", VolumeCapabilities: block})
	wantCode(t, err, codes.InvalidArgument)
	_, err = ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "../escape", VolumeCapabilities: mountCap})
	wantCode(t, err, codes.InvalidArgument)
	_, err = ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "pvc-clone", VolumeCapabilities: mountCap,
		VolumeContentSource: &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Volume{Volume: &csi.VolumeContentSource_VolumeSource{VolumeId: "pvc-1"}}}})
	wantCode(t, err, codes.InvalidArgument)
	_, err = csi.NewNodeClient(conn).NodePublishVolume(ctx, &csi.NodePublishVolumeRequest{VolumeId: "pvc-none", TargetPath: "/tmp/x", VolumeCapability: mountCap[0]})
	wantCode(t, err, codes.NotFound)
}
