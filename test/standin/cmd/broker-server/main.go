// broker-server is the TEST-ONLY stand-in for RobustMQ v0.4.11's libs/broker-server: same argv, same server.toml,
// the surfaces the chart and the CLI use. It is not RobustMQ.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"robustmq-install/test/standin/server"
)

// usage mirrors the real binary's clap definition (src/cmd/src/broker-server/server.rs): -c/--conf, default
// config/server.toml; --version prints the hard-coded 0.3.3.
const usage = `RobustMQ broker-server (STAND-IN for tests, not RobustMQ)

Usage: broker-server [OPTIONS]

Options:
  -c, --conf <CONF>  [default: config/server.toml]
  -h, --help         Print help
  -V, --version      Print version
`

func main() {
	conf := "config/server.toml"
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			fmt.Print(usage)
			return
		case a == "-V" || a == "--version":
			fmt.Println("broker-server 0.3.3")
			return
		case strings.HasPrefix(a, "--conf="):
			conf = strings.TrimPrefix(a, "--conf=")
		case (a == "--conf" || a == "-c") && i+1 < len(args):
			i++
			conf = args[i]
		case strings.HasPrefix(a, "-c") && len(a) > 2:
			conf = strings.TrimPrefix(strings.TrimPrefix(a, "-c"), "=")
		default:
			fmt.Fprintf(os.Stderr, "error: unexpected argument '%s' found\n\n%s", a, usage)
			os.Exit(2)
		}
	}
	log := server.NewLogger(os.Stdout)
	log.Logf("INFO", "RobustMQ broker-server STAND-IN (test double of v0.4.11, not RobustMQ) starting, config %s", conf)
	cfg, err := server.LoadConfig(conf, os.Environ())
	if err != nil {
		log.Logf("ERROR", "%v", err)
		os.Exit(1)
	}
	opt, err := server.OptionsFromEnv(os.Environ())
	if err != nil {
		log.Logf("ERROR", "%v", err)
		os.Exit(1)
	}
	log.Logf("INFO", "broker_id %d, roles %v, cluster %s, grpc %d, http %d", cfg.BrokerID, cfg.Roles, cfg.ClusterName, cfg.GRPCPort, cfg.HTTPPort)
	node, err := server.NewNode(cfg, opt, log)
	if err != nil {
		log.Logf("ERROR", "%v", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := node.Run(ctx); err != nil {
		log.Logf("ERROR", "%v", err)
		os.Exit(1)
	}
	log.Logf("INFO", "graceful stop complete")
}
