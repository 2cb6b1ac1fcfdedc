package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// notifySocket is a fake service manager: a unixgram socket that NOTIFY_SOCKET
// points at, recording every message it receives.
type notifySocket struct {
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	// A short path: t.TempDir() can exceed the 108 bytes of sun_path.
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n := &notifySocket{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("notify socket: %v", err)
				}
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() { testutil.Close(t, conn); <-done })
	t.Setenv("NOTIFY_SOCKET", path)
	return n
}

func (n *notifySocket) snapshot() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.msgs)
}

// states is the sequence of READY, RELOADING and STOPPING messages (status
// lines and watchdog pings left out), by their first line.
func (n *notifySocket) states() []string {
	var out []string
	for _, m := range n.snapshot() {
		first, _, _ := strings.Cut(m, "\n")
		switch first {
		case "READY=1", "RELOADING=1", "STOPPING=1":
			out = append(out, first)
		}
	}
	return out
}

func (n *notifySocket) count(first string) int {
	k := 0
	for _, m := range n.snapshot() {
		if f, _, _ := strings.Cut(m, "\n"); f == first {
			k++
		}
	}
	return k
}

// runNotified starts Run on a daemon whose source refuses connections (the
// first cycle fails fast) and returns the reload channel, the reload
// counter, the logs and a stop function that cancels Run and checks it
// returned nil.
func runNotified(t *testing.T) (d *Daemon, reload chan struct{}, rl *reloads, logs *syncbuf.Buffer, stop func()) {
	t.Helper()
	cfg := load(t, writeConfig(t, t.TempDir(), closedURL(t), "@every 1h", rulesV1, ""))
	rl = &reloads{}
	logs = &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := New(t.Context(), cfg, Options{Logger: log, OnReload: rl.on})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, d) })
	ctx, cancel := context.WithCancel(context.Background())
	reload = make(chan struct{}, 1)
	done := make(chan error, 1)
	// Not d and reload: named results, which the return below writes.
	run, ch := d.Run, reload
	go func() { done <- run(ctx, ch) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(60 * time.Second):
				t.Error("Run did not return after cancellation")
			}
		})
	}
	t.Cleanup(stop)
	return d, reload, rl, logs, stop
}

func (r *reloads) total() int {
	c := r.counts()
	return c[0] + c[1] + c[2]
}

// Run tells the service manager READY=1 at start, RELOADING=1 then READY=1
// around every reload (asked for on the channel, or after an edit of the
// rules), and STOPPING=1 on cancellation, in that order.
func TestNotifyLifecycle(t *testing.T) {
	sock := listenNotify(t)
	d, reload, rl, logs, stop := runNotified(t)

	testutil.WaitFor(t, "READY=1", func() bool { return sock.count("READY=1") == 1 })
	testutil.WaitFor(t, "the rules watch", func() bool { return strings.Contains(logs.String(), "watching rules for changes") })
	testutil.WaitFor(t, "the first cycle's status", func() bool {
		return slices.ContainsFunc(sock.snapshot(), func(m string) bool { return strings.Contains(m, "last cycle") })
	})

	// A request on the channel (SIGHUP), files unchanged.
	reload <- struct{}{}
	testutil.WaitFor(t, "the requested reload", func() bool { return rl.total() == 1 })
	testutil.WaitFor(t, "READY=1 after the reload", func() bool { return sock.count("READY=1") == 2 })

	// An edit of the rules file, picked up by the watcher.
	testutil.SaveByRename(t, d.cfg.Rules, rulesV2)
	testutil.WaitFor(t, "the reload after the edit", func() bool { return d.Rules().Len() == 3 })
	// A broken edit: refused, still RELOADING=1 then READY=1 (the last good
	// rules keep running), with the reason in the status.
	testutil.SaveByRename(t, d.cfg.Rules, rulesBroken)
	testutil.WaitFor(t, "the refused reload", func() bool { return rl.counts()[2] == 1 })
	n := rl.total()
	testutil.WaitFor(t, "READY=1 after every reload", func() bool { return sock.count("READY=1") == 1+n })

	stop()
	// The datagram is read by the socket's goroutine: wait for it.
	testutil.WaitFor(t, "STOPPING=1", func() bool { return sock.count("STOPPING=1") == 1 })
	want := []string{"READY=1"}
	for range n {
		want = append(want, "RELOADING=1", "READY=1")
	}
	want = append(want, "STOPPING=1")
	if got := sock.states(); !slices.Equal(got, want) {
		t.Errorf("states %q, want %q (%d reloads)", got, want, n)
	}
	if n < 3 {
		t.Errorf("%d reloads, want at least 3", n)
	}

	msgs := sock.snapshot()
	if !strings.HasPrefix(msgs[0], "READY=1\nSTATUS=running, 2 rules") {
		t.Errorf("first message %q", msgs[0])
	}
	var refused bool
	for _, m := range msgs {
		if strings.HasPrefix(m, "RELOADING=1\n") && !strings.Contains(m, "\nMONOTONIC_USEC=") {
			t.Errorf("RELOADING=1 without MONOTONIC_USEC: %q", m)
		}
		if strings.HasPrefix(m, "READY=1\n") && strings.Contains(m, "rules reload refused") {
			refused = true
		}
		if strings.HasPrefix(m, "WATCHDOG=1") {
			t.Errorf("watchdog ping without WATCHDOG_USEC: %q", m)
		}
	}
	if !refused {
		t.Errorf("no status line says the reload was refused:\n%q", msgs)
	}
	if strings.Contains(logs.String(), "cannot notify") {
		t.Errorf("notify failures logged:\n%s", logs.String())
	}
}

// With WatchdogSec= (WATCHDOG_USEC, WATCHDOG_PID of this process) Run pings
// WATCHDOG=1 at half the interval; for another process's WATCHDOG_PID it
// does not. That no tick comes after the ticker is stopped, or ever for
// another process, is TestWatchdogTicker's, where time is the bubble's.
func TestNotifyWatchdog(t *testing.T) {
	t.Run("enabled", func(t *testing.T) {
		sock := listenNotify(t)
		t.Setenv("WATCHDOG_USEC", "100000") // 100ms: a ping every 50ms
		t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
		_, _, _, logs, stop := runNotified(t)
		testutil.WaitFor(t, "watchdog pings", func() bool { return sock.count("WATCHDOG=1") >= 3 })
		stop()
		if !strings.Contains(logs.String(), "service manager watchdog enabled") {
			t.Errorf("the watchdog was not logged:\n%s", logs.String())
		}
	})
	t.Run("another process", func(t *testing.T) {
		sock := listenNotify(t)
		t.Setenv("WATCHDOG_USEC", "100000")
		t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
		_, _, _, logs, stop := runNotified(t)
		testutil.WaitFor(t, "READY=1 and the first cycle", func() bool {
			return sock.count("READY=1") == 1 && strings.Contains(logs.String(), "cycle done")
		})
		stop()
		if n := sock.count("WATCHDOG=1"); n != 0 {
			t.Errorf("%d watchdog pings for another process's watchdog", n)
		}
	})
}

// watchdogTicker ticks at half WatchdogSec= for this process and stops
// ticking when stopped; for another process's watchdog, or none, it never
// ticks. In a synctest bubble, so the ticks' times are exact and an hour
// without a tick takes no time.
func TestWatchdogTicker(t *testing.T) {
	for _, tc := range []struct {
		name, usec, pid string
		every           time.Duration // 0: never
	}{
		{"this process", "100000", strconv.Itoa(os.Getpid()), 50 * time.Millisecond},
		{"another process", "100000", strconv.Itoa(os.Getpid() + 1), 0},
		{"none", "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tc.usec)
			t.Setenv("WATCHDOG_PID", tc.pid)
			synctest.Test(t, func(t *testing.T) {
				d := &Daemon{log: quietLogger()}
				ticks, stop := d.watchdogTicker()
				if tc.every == 0 {
					if ticks != nil {
						t.Fatal("a ticker without a watchdog for this process")
					}
					stop()
					return
				}
				start := time.Now()
				for i := 1; i <= 3; i++ {
					<-ticks
					if got, want := time.Since(start), time.Duration(i)*tc.every; got != want {
						t.Fatalf("tick %d after %s, want %s", i, got, want)
					}
				}
				stop()
				time.Sleep(time.Hour)
				select {
				case <-ticks:
					t.Fatal("a tick after stop")
				default:
				}
			})
		})
	}
}

// Without NOTIFY_SOCKET nothing is sent and nothing is logged; with one that
// nobody listens on, the failure is logged and Run goes on.
func TestNotifyWithoutManager(t *testing.T) {
	for _, tc := range []struct {
		name, socket string
		warned       bool
	}{
		{"unset", "", false},
		{"nobody listening", filepath.Join(t.TempDir(), "gone"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NOTIFY_SOCKET", tc.socket)
			t.Setenv("WATCHDOG_USEC", "100000")
			t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
			d, reload, rl, logs, stop := runNotified(t)
			testutil.WaitFor(t, "the first cycle", func() bool { return strings.Contains(logs.String(), "cycle done") })
			testutil.WriteFile(t, d.cfg.Rules, rulesV2)
			reload <- struct{}{}
			testutil.WaitFor(t, "the reload", func() bool { return rl.total() >= 1 && d.Rules().Len() == 3 })
			stop()
			if got := strings.Contains(logs.String(), "cannot notify the service manager"); got != tc.warned {
				t.Errorf("notify failure logged: %v, want %v\n%s", got, tc.warned, logs.String())
			}
		})
	}
}
