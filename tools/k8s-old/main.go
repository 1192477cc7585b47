// Command kube is the multi-call control plane of the oldest Kubernetes minor the chart declares (see go.mod):
// kube-apiserver, kube-controller-manager and kube-scheduler only. The e2e suite runs its install scenarios on it
// with kwok as the kubelet, so no kubelet or kube-proxy is linked (and none of their packages compiled).
// It dispatches on the name it was invoked as (symlinks of those names) or, failing that, on its first argument.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	_ "time/tzdata" // for CronJob time zone support, as upstream's mains do

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric registration
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

var commands = map[string]func() *cobra.Command{
	"kube-apiserver":          func() *cobra.Command { return apiserver.NewAPIServerCommand() },
	"kube-controller-manager": func() *cobra.Command { return controllermanager.NewControllerManagerCommand() },
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
}

func main() {
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	newCommand, ok := commands[name]
	if !ok && len(os.Args) > 1 {
		if newCommand, ok = commands[os.Args[1]]; ok {
			os.Args = append([]string{os.Args[1]}, os.Args[2:]...)
		}
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "usage: kube {kube-apiserver|kube-controller-manager|kube-scheduler} [flags] (or invoke through a symlink of that name)")
		os.Exit(2)
	}
	os.Exit(cli.Run(newCommand()))
}
