package main

// Every fault the imitations can produce, through one long-running daemon:
// it stays up, doubles nothing, answers everything that could be answered
// and records the rest with the fault's reason. And a read-only database:
// a clear error and a retry, never a crash loop.

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// statusOf is comment id's claim as status/reason ("" when none).
func (w *world) statusOf(id string) string {
	for _, r := range w.claims() {
		if r.CommentID == id {
			return r.Status + "/" + r.Reason
		}
	}
	return ""
}

func TestEndToEndEveryFaultDaemonStaysUp(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the daemon through every fault")
	}
	start := time.Now()
	w := newWorld(t, "@every 1s", true)
	// JustOneAPI answers slower than 1s time out; retries are due within
	// seconds.
	w.editConfig("    timeout: 5s\n", "    timeout: 1s\n")
	must(t, os.WriteFile(w.cfg, append(must1(os.ReadFile(w.cfg)), []byte("retry: {initial_delay: 1s, max_delay: 2s}\n")...), 0o644))
	w.once()
	d := w.start()
	alive := func(step string) {
		t.Helper()
		select {
		case <-d.done:
			t.Fatalf("%s: the daemon exited:\n%s", step, d.log())
		default:
		}
	}
	n := 0
	add := func(thread string) (id, answer string) {
		n++
		nick := fmt.Sprintf("客%c", 'A'+n)
		return w.add(thread, "多少钱", nick, "3000"+strconv.Itoa(n%10)), nick + " 你好，价格请看橱窗[比心]"
	}
	// settled waits until comment id's claim is settled and returns it. A
	// retry is waited for too: kitkot's faults are served in order to
	// whichever send comes first, so a retry still due when the next step
	// pushes its fault would take that fault in place of the step's answer.
	settled := func(step, id string) string {
		t.Helper()
		var got string
		testutil.WaitFor(t, step+" to settle", func() bool {
			got = w.statusOf(id)
			return got != "" && !strings.HasPrefix(got, "pending/") && !strings.HasPrefix(got, "retrying/")
		})
		return got
	}
	type expect struct {
		step, id, answer string
		posts            int      // how many times the answer reached kitkot
		outcomes         []string // acceptable final status/reason
	}
	var expects []expect

	joFaults := []struct {
		name   string
		thread string
		faults []simulator.Fault
	}{
		{"JustOneAPI code 301", threadA, []simulator.Fault{{Kind: simulator.FaultCode, Code: 301}}},
		{"JustOneAPI code 500", threadA, []simulator.Fault{{Kind: simulator.FaultCode, Code: 500}}},
		// The first poll goes through; the second (usually thread B) is
		// refused as a bad thread, and polled again next cycle.
		{"JustOneAPI code 400 on one thread", threadB, []simulator.Fault{{Kind: simulator.FaultSlow}, {Kind: simulator.FaultCode, Code: 400}}},
		{"JustOneAPI HTTP 502", threadA, []simulator.Fault{{Kind: simulator.FaultHTTPStatus, Status: http.StatusBadGateway}}},
		{"JustOneAPI HTTP 503", threadB, []simulator.Fault{{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable}}},
		{"JustOneAPI broken JSON", threadA, []simulator.Fault{{Kind: simulator.FaultBrokenJSON}}},
		{"JustOneAPI slower than the timeout", threadA, []simulator.Fault{{Kind: simulator.FaultSlow, Delay: 2500 * time.Millisecond}}},
		{"JustOneAPI dropped connection", threadB, []simulator.Fault{{Kind: simulator.FaultDrop}}},
	}
	kkFaults := []struct {
		name     string
		fault    simulator.Fault
		posts    int
		outcomes []string
	}{
		{"kitkot code 400", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to publish reply"}, 0, []string{"failed/platform_400"}},
		{"kitkot HTTP 503", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable}, 1, []string{"sent/"}},
		{"kitkot HTTP 500", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusInternalServerError}, 0, []string{"unknown/http_500"}},
		{"kitkot broken JSON", simulator.Fault{Kind: simulator.FaultBrokenJSON}, 0, []string{"unknown/bad_answer"}},
		{"kitkot slower than the timeout after posting", simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 5 * time.Second}, 1, []string{"unknown/timeout", "sent/reconciled"}},
		{"kitkot dropped before", simulator.Fault{Kind: simulator.FaultDrop}, 0, []string{"unknown/dropped"}},
		{"kitkot dropped after posting", simulator.Fault{Kind: simulator.FaultDropAfter}, 1, []string{"unknown/dropped", "sent/reconciled"}},
	}
	firstOutcome := map[string]string{}
	for i := range max(len(joFaults), len(kkFaults)) {
		if i < len(joFaults) {
			f := joFaults[i]
			w.jo.Faults.Push(f.faults...)
			id, answer := add(f.thread)
			testutil.WaitFor(t, f.name+" to be consumed", func() bool { return w.jo.Faults.Len() == 0 })
			firstOutcome[f.name] = settled(f.name, id)
			expects = append(expects, expect{f.name, id, answer, 1, []string{"sent/"}})
			alive(f.name)
		}
		if i < len(kkFaults) {
			f := kkFaults[i]
			w.kk.Faults.Push(f.fault)
			id, answer := add(threadA)
			firstOutcome[f.name] = settled(f.name, id)
			expects = append(expects, expect{f.name, id, answer, f.posts, f.outcomes})
			alive(f.name)
		}
	}
	// An unknown answer shows up in the thread and is reconciled; then
	// nothing changes any more (checked below, after two more cycles).
	testutil.WaitForNoError(t, "the reconciliations", func() error {
		for _, e := range expects {
			if got := w.statusOf(e.id); !contains(e.outcomes, got) {
				return fmt.Errorf("%s: %q, want one of %v", e.step, got, e.outcomes)
			}
		}
		return nil
	})
	cycles := strings.Count(d.log(), `"msg":"cycle done"`)
	testutil.WaitFor(t, "two more cycles", func() bool { return strings.Count(d.log(), `"msg":"cycle done"`) >= cycles+2 })
	alive("the end")

	// Rate limited (302): the source backs off (for a minute), the daemon
	// stays up; a restart answers what came in meanwhile.
	w.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 302})
	lateID, lateAnswer := add(threadA)
	testutil.WaitFor(t, "the back-off", func() bool { return strings.Contains(d.log(), "source backs off") })
	alive("JustOneAPI code 302")
	must(t, d.cmd.Process.Signal(syscall.SIGTERM))
	<-d.done
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, d.log())
	}
	if strings.Contains(d.log(), `"level":"ERROR","msg":"panic`) {
		t.Errorf("a panic was logged:\n%s", d.log())
	}
	w.once()
	if got := w.statusOf(lateID); got != "sent/" {
		t.Errorf("the reply that arrived during the back-off: %q", got)
	}
	expects = append(expects, expect{"after the back-off", lateID, lateAnswer, 1, []string{"sent/"}})

	posts := postsByText(w.kk)
	for text, k := range posts {
		if k > 1 {
			t.Errorf("%q posted %d times", text, k)
		}
	}
	for _, e := range expects {
		got := w.statusOf(e.id)
		if !contains(e.outcomes, got) {
			t.Errorf("%s: ends %q, want one of %v (first settled as %q)", e.step, got, e.outcomes, firstOutcome[e.step])
		}
		if posts[e.answer] != e.posts {
			t.Errorf("%s: answer posted %d times, want %d", e.step, posts[e.answer], e.posts)
		}
	}
	if len(w.kk.Posts()) != len(posts) {
		t.Errorf("duplicate posts: %d posts, %d texts", len(w.kk.Posts()), len(posts))
	}
	t.Logf("%d JustOneAPI and %d kitkot faults (+302), first outcomes %v; %s", len(joFaults), len(kkFaults), firstOutcome, time.Since(start).Round(time.Millisecond))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A read-only database: run --once exits 1 saying so; the daemon keeps
// retrying (logging why) instead of exiting, and starts working once the
// permissions are fixed. Root ignores permissions, so as root the binary
// runs as nobody.
func TestEndToEndReadOnlyDatabase(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1s", true)
	w.once()
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		const nobody = 65534
		cred = &syscall.Credential{Uid: nobody, Gid: nobody}
		// nobody must reach the binary, the config, the secrets and the
		// database.
		for _, dir := range []string{filepath.Dir(binary), filepath.Dir(w.dir), w.dir} {
			must(t, os.Chmod(dir, 0o755))
		}
		root, err := os.OpenRoot(w.dir)
		must(t, err)
		must(t, fs.WalkDir(root.FS(), ".", func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return root.Lchown(p, nobody, nobody)
		}))
		must(t, root.Close())
	}
	dbFiles := func(mode os.FileMode) {
		files, err := filepath.Glob(filepath.Join(w.dir, "state", "autoreplyd.db*"))
		must(t, err)
		for _, f := range files {
			must(t, os.Chmod(f, mode))
		}
	}
	command := func(args ...string) *exec.Cmd {
		cmd := exec.Command(binary, args...)
		cmd.Env = w.environ()
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		return cmd
	}
	dbFiles(0o444)

	cmd := command("run", "--once", "--config", w.cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run()
	w.record(stderr.String())
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "database is read-only") {
		t.Fatalf("run --once over a read-only database exited %d:\n%s", code, stderr.String())
	}

	d := &daemon{done: make(chan struct{})}
	d.cmd = command("run", "--config", w.cfg)
	d.cmd.Stderr = d
	must(t, d.cmd.Start())
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
		w.record(d.log())
	})
	testutil.WaitFor(t, "the daemon to report the read-only database", func() bool {
		return strings.Contains(d.log(), "database unavailable") && strings.Contains(d.log(), "database is read-only")
	})
	id := w.add(threadA, "多少钱", "只读", "8001")
	// Until its next attempt (seconds later: several of its cycles) the
	// daemon may neither exit nor poll nor send.
	polls := w.jo.Calls()
	testutil.WaitFor(t, "the daemon's second attempt", func() bool {
		select {
		case <-d.done:
			t.Fatalf("the daemon exited over a read-only database:\n%s", d.log())
		default:
		}
		return strings.Contains(d.log(), `"attempts":2`)
	})
	if n := len(w.jo.Calls()) - len(polls); n != 0 {
		t.Fatalf("JustOneAPI polled %d times without a writable database", n)
	}
	if n := w.kk.Requests(); n != 0 {
		t.Fatalf("kitkot reached %d times without a writable database", n)
	}
	// The operator fixes the permissions (the -shm SQLite left behind too).
	dbFiles(0o644)
	testutil.WaitFor(t, "the daemon to start working", func() bool { return strings.Contains(d.log(), "database available again") })
	testutil.WaitFor(t, "the reply to be answered", func() bool { return postsByText(w.kk)["只读 你好，价格请看橱窗[比心]"] == 1 })
	must(t, d.cmd.Process.Signal(syscall.SIGTERM))
	<-d.done
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, d.log())
	}
	if got := w.statusOf(id); got != "sent/" {
		t.Fatalf("status %q", got)
	}
}
