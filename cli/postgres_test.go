package cli

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/store"
)

// The read and decide commands on PostgreSQL print exactly what they print
// on SQLite for the same history: history in every format, stats, inbox,
// replay's input; resolve, resume and approve change the shared database.
func TestCommandsOnPostgres(t *testing.T) {
	t.Parallel()
	lite := seededDB(t)
	pg := pgtest.NewDatabase(t)
	seedHistory(t, pg, seedRows)
	now := time.Now()
	liteInbox := inboxDB(t, now)
	pgInbox := pgtest.NewDatabase(t)
	seedHistory(t, pgInbox, inboxRows(now))

	same := func(t *testing.T, dbs [2]string, args ...string) {
		t.Helper()
		var out [2]result
		for i, db := range dbs {
			a := append(append([]string{}, args...), "--database", db)
			if args[0] != "replay" { // replay reads the zone the daemon recorded
				a = append(a, "--timezone", "Asia/Shanghai")
			}
			out[i] = runCLI(t, nil, a...)
			if out[i].code != 0 {
				t.Fatalf("%v on %s: exit %d\n%s", args, []string{"SQLite", "PostgreSQL"}[i], out[i].code, out[i].stderr)
			}
		}
		if out[0].stdout != out[1].stdout {
			t.Errorf("%v: PostgreSQL printed\n%s\nSQLite printed\n%s", args, out[1].stdout, out[0].stdout)
		}
		if out[0].stdout == "" {
			t.Errorf("%v printed nothing", args)
		}
	}
	for _, format := range []string{"table", "json", "csv"} {
		same(t, [2]string{lite, pg}, "history", "--format", format, "--limit", "0")
		same(t, [2]string{liteInbox, pgInbox}, "inbox", "--format", format)
	}
	same(t, [2]string{lite, pg}, "history", "--status", "sent", "--format", "json")
	same(t, [2]string{lite, pg}, "history", "--rule", "price", "--since", "720h", "--format", "csv")
	same(t, [2]string{lite, pg}, "stats", "--since", "720h")
	same(t, [2]string{lite, pg}, "stats", "--since", "720h", "--format", "json")
	// replay re-evaluates the history's comments with rules files.
	liteReplay := filepath.Join(t.TempDir(), "replay.db")
	seedReplay(t, liteReplay)
	pgReplay := pgtest.NewDatabase(t)
	seedReplay(t, pgReplay)
	for _, format := range []string{"table", "json"} {
		same(t, [2]string{liteReplay, pgReplay}, append([]string{"replay", "--format", format}, replayPeriod...)...)
	}

	// resolve writes to PostgreSQL; history reads it back.
	if r := runCLI(t, nil, "resolve", "--database", pg, "--drop", claimUnknown); r.code != 0 || !strings.Contains(r.stdout, "unknown → failed") {
		t.Fatalf("resolve on PostgreSQL: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := claimJSON(t, pg, claimUnknown); got.Status != "failed" || got.Reason != "resolved_drop" {
		t.Errorf("claim after resolve: %s/%s", got.Status, got.Reason)
	}
	// approve (an inbox decision) on PostgreSQL.
	if r := runCLI(t, nil, "approve", "--database", pgInbox, "--by", "客服小王", strconv.Itoa(inboxHeld)); r.code != 0 {
		t.Fatalf("approve on PostgreSQL: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := claimJSON(t, pgInbox, strconv.Itoa(inboxHeld)); got.Status != "retrying" || got.DecidedBy != "客服小王" {
		t.Errorf("claim after approve: %s, decided by %q", got.Status, got.DecidedBy)
	}
	// resume lifts a pause recorded in PostgreSQL.
	ctx := t.Context()
	st, err := store.Open(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPause(ctx, "responder:kitkot", time.Now().Add(time.Hour), "code 429", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, nil, "resume", "--list", "--database", pg); r.code != 0 || !strings.Contains(r.stdout, "responder:kitkot paused") {
		t.Fatalf("resume --list on PostgreSQL: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, "resume", "--database", pg, "responder:kitkot"); r.code != 0 {
		t.Fatalf("resume on PostgreSQL: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, nil, "resume", "--list", "--database", pg); strings.Contains(r.stdout, "responder:kitkot paused") {
		t.Fatalf("still paused after resume: %q", r.stdout)
	}
}

// check reads a PostgreSQL database's pauses, with database_password_file's
// password, which no output shows, even when the server is unreachable.
func TestCheckOnPostgres(t *testing.T) {
	t.Parallel()
	cfg, _ := checkWorld(t, goodRules, "")
	pwFile := filepath.Join(filepath.Dir(cfg), "pg-password")
	const pw = "pg-PASSWORD-check-7e1d"
	testutil.WriteFile(t, pwFile, pw+"\n")
	dsn := pgtest.NewDatabase(t)
	st, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPause(t.Context(), "responder:kitkot", time.Now().Add(time.Hour), "code 601: 余额不足", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	env := []string{"AUTOREPLYD_DATABASE=" + dsn, "AUTOREPLYD_DATABASE_PASSWORD_FILE=" + pwFile}
	r := runCLI(t, env, "check", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "config "+cfg+": OK") || !strings.Contains(r.stdout, "paused: responder:kitkot") {
		t.Fatalf("check on PostgreSQL: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	unreachable := []string{"AUTOREPLYD_DATABASE=postgres://autoreplyd@127.0.0.1:1/autoreplyd?sslmode=disable&connect_timeout=2",
		"AUTOREPLYD_DATABASE_PASSWORD_FILE=" + pwFile}
	r2 := runCLI(t, unreachable, "check", "--config", cfg)
	if r2.code != 0 || !strings.Contains(r2.stderr, "pauses not checked") {
		t.Fatalf("check with PostgreSQL unreachable: exit %d\n%s\n%s", r2.code, r2.stdout, r2.stderr)
	}
	for _, out := range []string{r.stdout, r.stderr, r2.stdout, r2.stderr} {
		if strings.Contains(out, pw) {
			t.Fatalf("the database password was printed:\n%s", out)
		}
	}
	// A password written in the URL is refused, naming the key, not shown.
	r3 := runCLI(t, []string{"AUTOREPLYD_DATABASE=postgres://autoreplyd:" + pw + "@db1/autoreplyd"}, "check", "--config", cfg)
	if r3.code == 0 || !strings.Contains(r3.stderr, "database") || strings.Contains(r3.stdout+r3.stderr, pw) {
		t.Fatalf("a password in the URL: exit %d\n%s\n%s", r3.code, r3.stdout, r3.stderr)
	}
}
