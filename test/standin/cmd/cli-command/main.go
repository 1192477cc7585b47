// cli-command is the TEST-ONLY stand-in for RobustMQ v0.4.11's libs/cli-command: only `mqtt [-s host:port] publish|
// subscribe`, the calls the chart's helm test (files/scripts/mqtt-roundtrip.sh) makes, with the lines it greps.
// Behaviour follows src/cli-command/src/mqtt/{command,pub_sub}.rs at v0.4.11: MQTT 5, clean start, session expiry 3 s,
// plain TCP, publish reads stdin line by line, subscribe runs until interrupted.
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

const banner = `
    RobustMQ cli-command STAND-IN (a test double of v0.4.11, not RobustMQ)
`

type pubSub struct {
	server, user, password, topic string
	qos                           byte
	retained                      bool
}

func usageExit(msg string) {
	fmt.Fprintf(os.Stderr, "error: %s\n\nUsage: cli-command mqtt [--server <SERVER>] <publish|subscribe> --username <USERNAME> --password <PASSWORD> --topic <TOPIC> [--qos <QOS>] [--retained]\n(stand-in: no other command is implemented)\n", msg)
	os.Exit(2)
}

func main() {
	fmt.Print(banner)
	args := os.Args[1:]
	if len(args) == 0 || args[0] != "mqtt" {
		usageExit("the stand-in implements only `mqtt publish` and `mqtt subscribe`")
	}
	args = args[1:]
	var a pubSub
	action := ""
	value := func(i *int, name string) string {
		if *i+1 >= len(args) {
			usageExit("a value is required for '" + name + "'")
		}
		*i++
		return args[*i]
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, inline, hasInline := strings.Cut(arg, "=")
		get := func() string {
			if hasInline {
				return inline
			}
			return value(&i, name)
		}
		switch name {
		case "-s", "--server":
			a.server = get()
		case "--output", "--page", "--limit":
			get()
		case "-u", "--username":
			a.user = get()
		case "-p", "--password":
			a.password = get()
		case "-t", "--topic":
			a.topic = get()
		case "-q", "--qos":
			q, err := strconv.Atoi(get())
			if err != nil || q < 0 || q > 2 {
				usageExit("invalid value for '--qos'")
			}
			a.qos = byte(q)
		case "--retained":
			a.retained = true
		case "publish", "subscribe":
			if action != "" {
				usageExit("unexpected argument '" + arg + "'")
			}
			action = arg
		default:
			usageExit("unexpected argument '" + arg + "'")
		}
	}
	if action == "" {
		usageExit("a subcommand is required: publish or subscribe")
	}
	if a.user == "" || a.password == "" || a.topic == "" {
		usageExit("the following required arguments were not provided: --username --password --topic")
	}
	if a.server == "" {
		// like v0.4.11: falls back to the ADMIN address, so MQTT then dials the HTTP port
		a.server = os.Getenv("ROBUSTMQ_API_URL")
		if a.server == "" {
			a.server = "127.0.0.1:58080"
		}
		a.server = strings.TrimPrefix(strings.TrimPrefix(a.server, "http://"), "https://")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if action == "publish" {
		os.Exit(publish(ctx, a))
	}
	os.Exit(subscribe(ctx, a))
}

func panicExit(format string, args ...any) int {
	// a Rust panic: message on stderr, exit 101
	fmt.Fprintf(os.Stderr, "thread 'main' panicked at src/cli-command/src/mqtt/command.rs:\n"+format+"\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n", args...)
	return 101
}

func connect(ctx context.Context, a pubSub, onMsg func(*paho.Publish), onLost func()) *paho.Client {
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(cctx, "tcp", a.server)
	if err != nil {
		// v0.4.11's wording when nothing accepts the TCP connection (recorded against a closed loopback port); the
		// dial error itself goes to stderr, which the real one does not print
		fmt.Println("Unable to connect: TcpTlsConnectFailure")
		fmt.Fprintf(os.Stderr, "(stand-in) %v\n", err)
		os.Exit(1)
	}
	cfg := paho.ClientConfig{Conn: conn, ClientID: fmt.Sprintf("standin-%d-%d", os.Getpid(), time.Now().UnixNano())}
	if onMsg != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(p paho.PublishReceived) (bool, error) { onMsg(p.Packet); return true, nil }}
	}
	cfg.OnClientError = func(error) { onLost() }
	cfg.OnServerDisconnect = func(*paho.Disconnect) { onLost() }
	c := paho.NewClient(cfg)
	expiry, recvMax, maxPkt, alias := uint32(3), uint16(128), uint32(2048), uint16(128)
	ack, err := c.Connect(cctx, &paho.Connect{ClientID: cfg.ClientID, KeepAlive: 600, CleanStart: true,
		Username: a.user, UsernameFlag: true, Password: []byte(a.password), PasswordFlag: true,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry, ReceiveMaximum: &recvMax, MaximumPacketSize: &maxPkt, TopicAliasMaximum: &alias, RequestProblemInfo: true}})
	if err != nil {
		if ack != nil {
			fmt.Printf("Unable to connect: reason code %d: %s\n", ack.ReasonCode, ack.Properties.ReasonString)
		} else {
			fmt.Printf("Unable to connect: %v\n", err)
		}
		os.Exit(1)
	}
	fmt.Printf("able to connect: %q\n", "tcp://"+a.server)
	return c
}

func subscribe(ctx context.Context, a pubSub) int {
	lost := make(chan struct{}, 1)
	out := bufio.NewWriter(os.Stdout)
	msgs := make(chan string, 1024)
	c := connect(ctx, a, func(p *paho.Publish) { msgs <- string(p.Payload) }, func() {
		select {
		case lost <- struct{}{}:
		default:
		}
	})
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	ack, err := c.Subscribe(sctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: a.topic, QoS: a.qos}}})
	cancel()
	if ack != nil {
		for _, r := range ack.Reasons {
			if r >= 0x80 {
				err = fmt.Errorf("subscription refused by the server, reason code 0x%02X", r)
			}
		}
	}
	if err != nil {
		return panicExit("subscribe_many: %v", err)
	}
	fmt.Println("subscribe success")
	for {
		select {
		case m := <-msgs:
			fmt.Fprintf(out, "payload: %s\n", m)
			out.Flush()
		case <-lost:
			fmt.Println("End of input stream.")
			return 0
		case <-ctx.Done():
			fmt.Println(" Ctrl+C detected,  Please press ENTER to end the program. ")
			_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0x04})
			return 0
		}
	}
}

func publish(ctx context.Context, a pubSub) int {
	c := connect(ctx, a, nil, func() {})
	fmt.Println("you can post a message on the terminal:")
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		fmt.Print("> ")
		select {
		case <-ctx.Done():
			fmt.Println(" Ctrl+C detected,  Please press ENTER to end the program. ")
			_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0x04})
			return 0
		case line, ok := <-lines:
			if !ok {
				fmt.Println("End of input stream.")
				_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0})
				return 0
			}
			fmt.Printf("You typed: %s\n", line)
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			_, err := c.Publish(pctx, &paho.Publish{Topic: a.topic, QoS: a.qos, Retain: a.retained, Payload: []byte(line)})
			cancel()
			if err != nil {
				return panicExit("%v", err)
			}
			if a.retained {
				fmt.Println("published retained message")
				_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0x04})
				return 0
			}
		}
	}
}
