package driver

import (
	"context"
	"log"
	"time"

	"google.golang.org/grpc"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

// Registration is what node-driver-registrar serves on <kubelet root>/plugins_registry/<driver>-reg.sock: the
// kubelet's plugin watcher finds the socket, asks GetInfo, dials the CSI endpoint it names (NodeGetInfo), writes
// the CSINode object, and reports back through NotifyRegistrationStatus.
type Registration struct {
	registerapi.UnimplementedRegistrationServer
	CSIEndpoint string
	// Registered is closed once the kubelet reports a successful registration.
	Registered chan struct{}
}

func NewRegistration(csiEndpoint string) *Registration {
	return &Registration{CSIEndpoint: csiEndpoint, Registered: make(chan struct{})}
}

func (r *Registration) Register(s *grpc.Server) { registerapi.RegisterRegistrationServer(s, r) }

func (r *Registration) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	return &registerapi.PluginInfo{
		Type: registerapi.CSIPlugin, Name: Name, Endpoint: r.CSIEndpoint, SupportedVersions: []string{"1.0.0"},
	}, nil
}

func (r *Registration) NotifyRegistrationStatus(_ context.Context, st *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	if st.GetPluginRegistered() {
		log.Printf("registered with the kubelet")
		select {
		case <-r.Registered:
		default:
			close(r.Registered)
		}
	} else {
		// node-driver-registrar exits here so that its pod restarts; as a node process we only say it: the
		// kubelet retries when the socket is seen again, and the real-node start waits for the CSINode anyway.
		log.Printf("the kubelet refused the registration: %s", st.GetError())
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}

func timeFromUnixNs(ns int64) time.Time { return time.Unix(0, ns) }
