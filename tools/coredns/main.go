// Command coredns is CoreDNS with only the plugins the real-node tests use for cluster DNS. Upstream's main links
// every plugin (cloud DNS providers, etcd, quic, ...): a long build and a large binary for nothing here. Pods never
// resolve names outside the cluster (there is no outside network), so there is no forward and no loop plugin.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	// The order is the order plugins see a query in, so it follows upstream's plugin.cfg. Listing a plugin that is
	// not linked would make a Corefile using it fail with "unknown directive" instead of a silent no-op.
	dnsserver.Directives = []string{
		"bind",
		"ready",
		"health",
		"errors",
		"log",
		"cache",
		"hosts",
		"kubernetes",
	}
}

func main() { coremain.Run() }
