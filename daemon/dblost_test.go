package daemon

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// TestDatabaseLostStopsEverything: the probe removed the database and its
// -wal/-shm under a running daemon, which went on writing to the deleted
// file, logged nothing and stayed ready; the next start answered every
// comment again. Now a cycle notices, polls and sends nothing, says so at
// ERROR, /-/ready says why, and no database is recreated at the path. A
// file moved back is picked up again.
func TestDatabaseLostStopsEverything(t *testing.T) {
	t.Parallel()
	jo, kk, url := imitations(t)
	cfg := load(t, writeConfig(t, t.TempDir(), url, "@every 1h", rulesV1, ""))
	logs := &syncbuf.Buffer{}
	d, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	d.Cycle(t.Context())
	if code, _ := get(t, d.HealthHandler(), "/-/ready"); code != http.StatusOK {
		t.Fatalf("ready before: %d", code)
	}

	// Moved away: nothing happens until it is back.
	if err := os.Rename(cfg.Database, cfg.Database+".moved"); err != nil {
		t.Fatal(err)
	}
	jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: "1001", Nickname: "小明", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	calls := jo.CallCount()
	if st := d.Cycle(t.Context()); st.Errors != 1 || st.Polled != 0 {
		t.Fatalf("cycle with the database moved away: %+v", st)
	}
	if jo.CallCount() != calls || len(kk.Posts()) != 0 {
		t.Fatalf("polled (%d calls) or sent (%d) with the database gone", jo.CallCount()-calls, len(kk.Posts()))
	}
	if !strings.Contains(logs.String(), "DATABASE LOST") {
		t.Fatalf("no DATABASE LOST in the log:\n%s", logs.String())
	}
	code, body := get(t, d.HealthHandler(), "/-/ready")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database lost") {
		t.Fatalf("ready while lost: %d %q", code, body)
	}
	if _, err := os.Stat(cfg.Database); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a database was recreated at %s (stat: %v)", cfg.Database, err)
	}
	if err := os.Rename(cfg.Database+".moved", cfg.Database); err != nil {
		t.Fatal(err)
	}
	if st := d.Cycle(t.Context()); st.Sent != 1 {
		t.Fatalf("cycle with the database back: %+v", st)
	}
	if !strings.Contains(logs.String(), "database file back") {
		t.Errorf("no 'database file back' in the log")
	}

	// Deleted with its -wal and -shm: never recreated.
	for _, p := range []string{cfg.Database, cfg.Database + "-wal", cfg.Database + "-shm"} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "价格", UserUID: "1003", Nickname: "小红", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	for range 2 {
		if st := d.Cycle(t.Context()); st.Errors != 1 || st.Polled != 0 {
			t.Fatalf("cycle with the database deleted: %+v", st)
		}
	}
	if n := len(kk.Posts()); n != 1 {
		t.Fatalf("%d posts, want only the one before the deletion", n)
	}
	if code, _ := get(t, d.HealthHandler(), "/-/ready"); code != http.StatusServiceUnavailable {
		t.Fatalf("ready with the database deleted: %d", code)
	}
	if _, err := os.Stat(cfg.Database); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a database was recreated at %s (stat: %v)", cfg.Database, err)
	}
}

// A new, empty database beside a config that watches threads is worth a
// warning on start, a loud one with backlog: answer (the probe's next start
// answered all 180 comments a second time); an existing one is not.
func TestNewDatabaseWarning(t *testing.T) {
	t.Parallel()
	for _, backlog := range []string{"skip", "answer"} {
		dir := t.TempDir()
		path := writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, "")
		data, _ := os.ReadFile(path)
		testutil.WriteFile(t, path, strings.Replace(string(data), "backlog: skip", "backlog: "+backlog, 1))
		cfg := load(t, path)
		for run, want := range []bool{true, false} {
			logs := &syncbuf.Buffer{}
			d, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			testutil.Close(t, d)
			warned := strings.Contains(logs.String(), "new empty database") || strings.Contains(logs.String(), "NEW EMPTY DATABASE")
			if warned != want {
				t.Errorf("backlog %s, start %d: warned %v, want %v:\n%s", backlog, run+1, warned, want, logs.String())
			}
			if loud := strings.Contains(logs.String(), "NEW EMPTY DATABASE with backlog: answer"); loud != (want && backlog == "answer") {
				t.Errorf("backlog %s, start %d: loud warning %v:\n%s", backlog, run+1, loud, logs.String())
			}
		}
	}
}
