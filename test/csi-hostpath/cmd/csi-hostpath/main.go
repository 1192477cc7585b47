// Command csi-hostpath is the TEST-ONLY CSI driver of the real-node tests (docs/csi-hostpath.md): Identity,
// Controller and Node services on one socket, plus the kubelet's plugin-registration socket (node-driver-
// registrar's job) on another. Runs as a process of the real node, like the node's other parts.
//
//	csi-hostpath --endpoint=DIR/csi.sock --state-dir=DIR/state --node-id=NODE \
//	  --registration-socket=KUBELET_ROOT/plugins_registry/hostpath.csi.robustmq-install.test-reg.sock
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"google.golang.org/grpc"

	"robustmq-install/test/csi-hostpath/driver"
)

func main() {
	endpoint := flag.String("endpoint", "", "unix socket path of the CSI services")
	stateDir := flag.String("state-dir", "", "root dir of volumes and snapshots")
	nodeID := flag.String("node-id", "", "node id reported by NodeGetInfo (the Kubernetes node name)")
	registration := flag.String("registration-socket", "", "kubelet plugin-registration socket to serve (empty: none)")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Printf("csi-hostpath %s (%s, test-only)\n", driver.Version, driver.Name)
		return
	}
	if *endpoint == "" || *stateDir == "" || *nodeID == "" {
		fmt.Fprintln(os.Stderr, "usage: csi-hostpath --endpoint=SOCKET --state-dir=DIR --node-id=NODE [--registration-socket=SOCKET]")
		os.Exit(2)
	}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	store, err := driver.NewStore(*stateDir)
	if err != nil {
		log.Fatal(err)
	}

	csiServer := grpc.NewServer(grpc.UnaryInterceptor(driver.LogCalls))
	driver.New(store, *nodeID, driver.BindMounter{}).Register(csiServer)
	csiListener, err := listenUnix(*endpoint)
	if err != nil {
		log.Fatal(err)
	}
	go serve(csiServer, csiListener, "CSI")
	log.Printf("%s %s serving CSI on %s, state in %s", driver.Name, driver.Version, *endpoint, *stateDir)

	var regServer *grpc.Server
	if *registration != "" {
		// Only once the CSI socket is there: the kubelet dials it right after GetInfo.
		regServer = grpc.NewServer(grpc.UnaryInterceptor(driver.LogCalls))
		driver.NewRegistration(*endpoint).Register(regServer)
		regListener, err := listenUnix(*registration)
		if err != nil {
			log.Fatal(err)
		}
		go serve(regServer, regListener, "registration")
		log.Printf("serving kubelet plugin registration on %s", *registration)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	// The registration socket goes first: the kubelet deregisters the driver when it disappears.
	if regServer != nil {
		regServer.Stop()
		_ = os.Remove(*registration)
	}
	csiServer.GracefulStop()
	_ = os.Remove(*endpoint)
}

// listenUnix removes a socket left by an earlier run (a killed process cannot remove it), never any other file.
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return net.Listen("unix", path)
}

func serve(s *grpc.Server, l net.Listener, what string) {
	if err := s.Serve(l); err != nil {
		log.Fatalf("%s server: %v", what, err)
	}
}
