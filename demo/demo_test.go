package demo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

func TestRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the demo runs for several seconds")
	}
	dir := t.TempDir()
	var out, log bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // bounds a hang only
	defer cancel()
	err := Run(ctx, Options{Duration: 6 * time.Second, Tick: 500 * time.Millisecond, Seed: 42, Out: &out, Log: &log, Dir: dir, Program: "/opt/bin/autoreplyd"})
	if err != nil {
		t.Fatalf("Run: %v\nout:\n%s\nlog:\n%s", err, out.String(), log.String())
	}
	o := out.String()
	t.Logf("demo output:\n%s\nlog:\n%s", o, log.String())
	db := filepath.Join(dir, "autoreplyd.db")
	for _, want := range []string{
		"autoreplyd demo: simulator on http://127.0.0.1:",
		"database " + db + "\n",
		"watching 3 Douyin threads, 1 Douyin video;",
		// The watched video's comments before the first look are its
		// backlog; a new one is printed as the video's.
		"  video  …2416  ",
		"backlog: recorded, not answered",
		`: sent "`,
		"our own reply: ignored",
		"\nsummary of this run\n",
		"  comments seen:      ",
		"  handled replies:    ",
		"  JustOneAPI calls:   ",
		// Questions no template answers: the imitated model drafts,
		// a person approves.
		"rule product_question: asking the model for a draft",
		"rule product_question: held for approval ",
		"  database:           " + db + "\n",
		"query it:  /opt/bin/autoreplyd history --database " + db,
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The run's end (its duration) cuts work short: no error.
	if strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("the demo logged an error:\n%s", log.String())
	}
	// Nothing the demo printed holds its (made-up) credentials.
	for _, secret := range []string{demoToken, demoAPIKey, demoSessionKey, demoLLMKey} {
		if strings.Contains(o, secret) || strings.Contains(log.String(), secret) {
			t.Errorf("output contains %q", secret)
		}
	}
	// The summary comes last.
	if i, j := strings.LastIndex(o, "→"), strings.Index(o, "\nsummary of this run\n"); i > j {
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
	defer testutil.Close(t, st)
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
	// The drafts held for a person are the model's, with its tokens.
	held, err := st.History(t.Context(), store.Filter{Status: model.StatusHeld})
	if err != nil || len(held) == 0 {
		t.Fatalf("held rows: %d, %v", len(held), err)
	}
	for _, r := range held {
		if r.Rule != "product_question" || r.LLM != "demo" || r.LLMModel != "demo-chat" || r.DraftText == "" ||
			r.ReplyText != r.DraftText || r.PromptTokens == 0 {
			t.Errorf("held row %+v", r)
		}
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

// runDemo runs the demo for d in dir and returns what it printed.
func runDemo(t *testing.T, dir string, d time.Duration) string {
	t.Helper()
	var out, log syncbuf.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // bounds a hang only
	defer cancel()
	if err := Run(ctx, Options{Duration: d, Tick: 300 * time.Millisecond, Seed: 7, Out: &out, Log: &log, Dir: dir}); err != nil {
		t.Fatalf("Run: %v\nout:\n%s\nlog:\n%s", err, out.String(), log.String())
	}
	t.Logf("demo output:\n%s\nlog:\n%s", out.String(), log.String())
	return out.String()
}

// sentRows counts the database's sent rows.
func sentRows(t *testing.T, db string) []store.HistoryRow {
	t.Helper()
	st, err := store.OpenReadOnly(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, st)
	rows, err := st.History(t.Context(), store.Filter{Status: model.StatusSent})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// firstLines is the output before the first decision.
func firstLines(out string) string {
	head, _, _ := strings.Cut(out, "\n\n")
	return head
}

// The operator's rules and config in --dir are used, never overwritten, and
// the first lines say so; a second run's summary speaks of that run alone.
func TestRunKeepsExistingFilesAndCountsThisRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the demo runs for several seconds")
	}
	dir := t.TempDir()
	rulesPath, cfgPath, db := filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "config.yaml"), filepath.Join(dir, "autoreplyd.db")
	const rules = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx", "私信我"])'
  - name: everyone
    when: 'true'
    reply: '收到：{{ user.nickname }}🙏'
`
	if err := os.WriteFile(rulesPath, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	out1 := runDemo(t, dir, 3*time.Second)
	head := firstLines(out1)
	if !strings.Contains(head, "using the existing "+rulesPath+" (not overwritten)") || strings.Contains(head, "config.yaml") {
		t.Errorf("first lines of run 1:\n%s", head)
	}
	if got, _ := os.ReadFile(rulesPath); string(got) != rules {
		t.Fatalf("rules.yaml overwritten:\n%s", got)
	}
	sent1 := sentRows(t, db)
	if len(sent1) == 0 {
		t.Fatal("run 1 sent nothing")
	}
	for _, r := range sent1 {
		if r.Rule != "everyone" || !strings.HasPrefix(r.ReplyText, "收到：") {
			t.Errorf("not answered by the operator's rules: %+v", r)
		}
	}

	// The operator edits the config the first run wrote (its simulator's
	// port is gone by now): the second run uses it as it is.
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(cfg), "labels: {campaign: spring}", "labels: {campaign: autumn}", 1)
	if edited == string(cfg) {
		t.Fatal("the demo's config has no spring label to edit")
	}
	if err := os.WriteFile(cfgPath, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	out2 := runDemo(t, dir, 3*time.Second)
	head = firstLines(out2)
	for _, want := range []string{"using the existing " + cfgPath + " (not overwritten)", "using the existing " + rulesPath + " (not overwritten)",
		"its base URLs point at this run's simulator: sources.douyin.base_url, responders.kitkot.base_url"} {
		if !strings.Contains(head, want) {
			t.Errorf("first lines of run 2 lack %q:\n%s", want, head)
		}
	}
	if got, _ := os.ReadFile(cfgPath); string(got) != edited {
		t.Fatalf("config.yaml overwritten:\n%s", got)
	}
	sent2 := sentRows(t, db)
	m := regexp.MustCompile(`(?m)^  handled replies:    (\d+) sent`).FindStringSubmatch(out2)
	if m == nil {
		t.Fatalf("run 2's summary has no sent count:\n%s", out2)
	}
	n, _ := strconv.Atoi(m[1])
	// Sent is final: the rows sent by run 2 are the new sent rows.
	if n != len(sent2)-len(sent1) || n == 0 {
		t.Errorf("run 2's summary says %d sent; the database went from %d to %d sent rows", n, len(sent1), len(sent2))
	}
	if printed := strings.Count(out2, `: sent "`); printed != n {
		t.Errorf("run 2 printed %d sent decisions, its summary says %d", printed, n)
	}
	if want := fmt.Sprintf("  all runs in it:     %d sent", len(sent2)); !strings.Contains(out2, want) {
		t.Errorf("run 2's summary lacks the database's totals %q", want)
	}
}

// A reload that went live is printed among the decisions, as it happens.
func TestRunPrintsReload(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the demo runs for several seconds")
	}
	dir := t.TempDir()
	var out, log syncbuf.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // bounds a hang only
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Tick: 300 * time.Millisecond, Seed: 3, Out: &out, Log: &log, Dir: dir})
	}()
	testutil.WaitFor(t, "the first decision", func() bool { return strings.Contains(out.String(), "→") })
	rules, err := os.ReadFile(filepath.Join(dir, "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seven := string(rules) + `
  - name: emoji
    when: 'onlyEmoji(text)'
    reply: '🙏'
`
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(seven), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the reload to be printed", func() bool { return strings.Contains(out.String(), "\nrules reloaded: 8 rules\n") })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
}

// Without --dir the temporary directory goes at the end, and the hint
// suggests --dir rather than a database that is gone.
func TestRunRemovesTemporaryDir(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the demo runs for several seconds")
	}
	var out, log syncbuf.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // bounds a hang only
	defer cancel()
	if err := Run(ctx, Options{Duration: 2 * time.Second, Tick: 300 * time.Millisecond, Seed: 5, Out: &out, Log: &log, Program: "./autoreplyd"}); err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	o := out.String()
	t.Logf("demo output:\n%s", o)
	m := regexp.MustCompile(`database (\S+)/autoreplyd\.db\n`).FindStringSubmatch(o)
	if m == nil {
		t.Fatalf("no database in the first line:\n%s", o)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s: %v", m[1], err)
	}
	if !strings.Contains(o, "the demo's temporary directory "+m[1]+" is removed now; to keep the database and query it:\n  ./autoreplyd demo --dir autoreplyd-demo\n") {
		t.Error("no hint to keep the database with --dir")
	}
	if strings.Contains(o, "query it:  ") || strings.Contains(o, "history --database") {
		t.Error("the hint points at the removed database")
	}
}
