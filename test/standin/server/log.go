package server

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Logger writes lines shaped like v0.4.11's tracing console output ("<time>  INFO <target>: <message>"). Callers
// never pass secrets: passwords, JWT secrets and tokens are not logged anywhere in the stand-in.
type Logger struct {
	mu sync.Mutex
	w  io.Writer
}

func NewLogger(w io.Writer) *Logger { return &Logger{w: w} }

func (l *Logger) Logf(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %5s broker_server::standin: %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), level, fmt.Sprintf(format, args...))
}

// Write lets the MQTT library's logger share the same stream.
func (l *Logger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
