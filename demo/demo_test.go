package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs for several seconds")
	}
	dir := t.TempDir()
	var out, log bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // bounds a hang only
	defer cancel()
	err := Run(ctx, Options{Duration: 6 * time.Second, Tick: 500 * time.Millisecond, Seed: 42, Out: &out, Log: &log, Dir: dir})
	if err != nil {
		t.Fatalf("Run: %v\nout:\n%s\nlog:\n%s", err, out.String(), log.String())
	}
	o := out.String()
	t.Logf("demo output:\n%s\nlog:\n%s", o, log.String())
	db := filepath.Join(dir, "autoreplyd.db")
	for _, want := range []string{
		"autoreplyd demo: simulator on http://127.0.0.1:",
		"database " + db + "\n",
		"watching 3 Douyin threads",
		"backlog: recorded, not answered",
		`: sent "`,
		"our own reply: ignored",
		"\nsummary\n",
		"  comments seen:      ",
		"  handled replies:    ",
		"  JustOneAPI calls:   ",
		"  database:           " + db + "\n",
		"query it:  go run ./cmd/autoreplyd history --database " + db,
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Nothing the demo printed holds its (made-up) credentials.
	for _, secret := range []string{demoToken, demoAPIKey, demoSessionKey} {
		if strings.Contains(o, secret) || strings.Contains(log.String(), secret) {
			t.Errorf("output contains %q", secret)
		}
	}
	// The summary comes last.
	if i, j := strings.LastIndex(o, "→"), strings.Index(o, "\nsummary\n"); i > j {
		t.Error("a decision was printed after the summary")
	}

	for _, f := range []string{"config.yaml", "rules.yaml", "autoreplyd.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("demo dir: %v", err)
		}
	}
	st, err := store.OpenReadOnly(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sent, err := st.History(t.Context(), store.Filter{Status: model.StatusSent})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) == 0 {
		t.Fatal("no sent rows in the database")
	}
	for _, r := range sent {
		if r.Platform != model.PlatformDouyin || r.Responder != "kitkot" || r.ReplyText == "" || r.PlatformReplyID == "" {
			t.Errorf("sent row %+v", r)
		}
	}
	// Every sent row was printed as it happened.
	if n := strings.Count(o, `: sent "`); n < len(sent) {
		t.Errorf("%d sent decisions printed, %d sent rows", n, len(sent))
	}
	// Nothing is left pending after the run.
	pending, err := st.History(t.Context(), store.Filter{Status: model.StatusPending})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Errorf("%d claims left pending", len(pending))
	}
}
