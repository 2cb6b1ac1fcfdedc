// Command pprofd is autoreplyd with a profiling endpoint, for benchmarks
// only: the load harness (bench/load -pprof) runs it in place of the daemon
// to profile a run from outside. It is the daemon's own entry point, cli.Main,
// preceded by one flag of its own:
//
//	pprofd -pprof-listen 127.0.0.1:PORT run --config autoreplyd.yaml
//
// On that address (loopback only) it serves net/http/pprof's handlers under
// /debug/pprof/, and /cpu/start and /cpu/stop, which start a CPU profile and
// stop it, answering with the profile: the harness profiles exactly the
// cycles it measures, whatever their length. The released binary has none of
// this, and nothing in the daemon's configuration turns it on.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	rpprof "runtime/pprof"
	"sync"
	"time"
	_ "time/tzdata" // as cmd/autoreplyd

	"github.com/autoreplyd/autoreplyd/cli"
)

func main() {
	args := os.Args[1:]
	if len(args) < 2 || args[0] != "-pprof-listen" {
		fmt.Fprintln(os.Stderr, "usage: pprofd -pprof-listen 127.0.0.1:PORT <autoreplyd arguments>")
		os.Exit(2)
	}
	if err := serve(args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "pprofd:", err)
		os.Exit(1)
	}
	os.Exit(cli.Main(context.Background(), args[2:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(), Stdin: os.Stdin}))
}

// serve starts the profiling listener on addr, which must be a loopback
// address: profiles show the daemon's memory, secrets included.
func serve(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-pprof-listen %s: not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	var cpu cpuProfile
	mux.HandleFunc("POST /cpu/start", cpu.start)
	mux.HandleFunc("POST /cpu/stop", cpu.stop)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	srv.Handler = mux
	go func() { _ = srv.Serve(ln) }() // ends with the process
	return nil
}

// cpuProfile is the CPU profile between /cpu/start and /cpu/stop.
type cpuProfile struct {
	mu  sync.Mutex
	buf *bytes.Buffer // nil: not profiling
}

func (c *cpuProfile) start(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf != nil {
		http.Error(w, "a CPU profile is running", http.StatusConflict)
		return
	}
	buf := new(bytes.Buffer)
	if err := rpprof.StartCPUProfile(buf); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	c.buf = buf
}

func (c *cpuProfile) stop(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		http.Error(w, errors.New("no CPU profile running").Error(), http.StatusConflict)
		return
	}
	rpprof.StopCPUProfile()
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(c.buf.Bytes())
	c.buf = nil
}
