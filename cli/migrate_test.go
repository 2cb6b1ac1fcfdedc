package cli

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// migrateSource writes a small history through the store: two comments
// (one in Chinese with an emoji), a sent claim, a pause and the time zone.
func migrateSource(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "autoreplyd.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	for i, text := range []string{"多少钱？🙂", "hello"} {
		c := model.Comment{Platform: "douyin", ID: "73000000000000000" + string(rune('1'+i)), ThreadID: "7", Text: text, CreatedAt: now}
		won, err := st.Record(ctx, c, model.DispositionEvaluated, []store.Claim{{Rule: "price", Responder: "kitkot", Status: model.StatusPending, ReplyText: "私信 👍"}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Settle(ctx, won[0].ID, store.Settlement{Status: model.StatusSent, PlatformReplyID: "74"}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetPause(ctx, "responder:kitkot", time.Time{}, "余额不足", now); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta(ctx, store.MetaTimezone, "Asia/Shanghai"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// tableLine matches the printed line of table with its counts.
func tableLine(table, copied, source, target, maxID, check string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + table + ` +` + copied + ` +` + source + ` +` + target + ` +` + regexp.QuoteMeta(maxID) + ` +` + check + `$`)
}

func TestMigrateCopiesAndPrintsTheCheck(t *testing.T) {
	src := migrateSource(t)
	dsn := pgtest.NewDatabase(t)
	const secret = "hunter2-Very-Secret"
	pwFile := filepath.Join(t.TempDir(), "pgpassword")
	testutil.WriteFile(t, pwFile, secret+"\n")

	r := runCLI(t, nil, "migrate", "--from", "sqlite:"+src, "--to", dsn, "--password-file", pwFile, "--batch", "1")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^TABLE +COPIED +SOURCE +TARGET +MAX ID +CHECK$`),
		tableLine("comments", "2", "2", "2", "2", "ok"),
		tableLine("replies", "2", "2", "2", "2", "ok"),
		tableLine("notifications", "0", "0", "0", "0", "ok"),
		tableLine("pauses", "1", "1", "1", "-", "ok"),
		tableLine("meta", "1", "1", "1", "-", "ok"),
		regexp.MustCompile(`(?m)^verified: every table holds as many rows in PostgreSQL as in SQLite, with the same highest ids; source fingerprint sqlite-sha256:[0-9a-f]{32}$`),
		regexp.MustCompile(`(?m)^from sqlite:` + regexp.QuoteMeta(src) + `$`),
	} {
		if !re.MatchString(r.stdout) {
			t.Errorf("stdout lacks %s:\n%s", re, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "comments: 2 rows copied in") {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	// The rows are there, Chinese and emoji as written.
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := conn.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	var text, reason string
	if err := conn.QueryRow(t.Context(), `SELECT text FROM comments WHERE comment_id = '730000000000000001'`).Scan(&text); err != nil || text != "多少钱？🙂" {
		t.Errorf("comment text %q (%v)", text, err)
	}
	if err := conn.QueryRow(t.Context(), `SELECT reason FROM pauses`).Scan(&reason); err != nil || reason != "余额不足" {
		t.Errorf("pause reason %q (%v)", reason, err)
	}

	// Again: nothing left to copy, still verified.
	r2 := runCLI(t, nil, "migrate", "--from", "sqlite:"+src, "--to", dsn)
	if r2.code != 0 || !tableLine("comments", "0", "2", "2", "2", "ok").MatchString(r2.stdout) {
		t.Errorf("second run: exit %d\n%s\n%s", r2.code, r2.stdout, r2.stderr)
	}

	// A row the source does not have: the check fails, exit 1.
	if _, err := conn.Exec(t.Context(), `INSERT INTO pauses (scope, created_at) VALUES ('source:zz', '2026-12-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	r3 := runCLI(t, nil, "migrate", "--from", "sqlite:"+src, "--to", dsn)
	if r3.code != 1 || !tableLine("pauses", "0", "1", "2", "-", "DIFFERS").MatchString(r3.stdout) ||
		!strings.Contains(r3.stderr, "the target differs from the source in pauses") {
		t.Errorf("with an extra row: exit %d\n%s\n%s", r3.code, r3.stdout, r3.stderr)
	}
	for _, out := range []string{r.stdout, r.stderr, r2.stdout, r2.stderr, r3.stdout, r3.stderr} {
		if strings.Contains(out, secret) {
			t.Errorf("the password was printed:\n%s", out)
		}
	}
}

func TestMigrateRefusals(t *testing.T) {
	src := migrateSource(t)
	const secret = "hunter2-Very-Secret"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"password in the URL", []string{"--from", "sqlite:" + src, "--to", "postgres://autoreplyd:" + secret + "@db.example/autoreplyd"}, 2, "--to: the URL holds a password"},
		{"password parameter", []string{"--from", "sqlite:" + src, "--to", "postgres://autoreplyd@db.example/autoreplyd?password=" + secret}, 2, "--to: password= parameter: the URL holds a password"},
		{"not a URL", []string{"--from", "sqlite:" + src, "--to", "host=db password=" + secret}, 2, "--to: not a postgres:// URL"},
		{"no sqlite: prefix", []string{"--from", src, "--to", "postgres://u@h/d"}, 2, "--from: give the SQLite database as sqlite:PATH"},
		{"missing source", []string{"--from", "sqlite:" + src + ".missing", "--to", "postgres://u@h/d?sslmode=disable&connect_timeout=1"}, 1, "does not exist"},
		{"empty password file", []string{"--from", "sqlite:" + src, "--to", "postgres://u@h/d", "--password-file", os.DevNull}, 1, "--password-file:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"migrate"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", r.code, tc.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("the password was printed:\n%s\n%s", r.stdout, r.stderr)
			}
		})
	}
}

func TestMigrateUpgradesAnOlderSourceOnlyWhenAsked(t *testing.T) {
	src := migrateSource(t)
	// Schema version 8, as far as migrations 9 and 10 can tell: no drafts
	// table (this history has no draft), no instances, leases or
	// replies.instance.
	db, err := sql.Open("sqlite", "file:"+src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("ALTER TABLE replies DROP COLUMN instance; DROP TABLE drafts; DROP TABLE leases; DROP TABLE instances; PRAGMA user_version = 8"); err != nil {
		t.Fatal(err)
	}
	testutil.Close(t, db)
	dsn := pgtest.NewDatabase(t)
	r := runCLI(t, nil, "migrate", "--from", "sqlite:"+src, "--to", dsn)
	if r.code != 1 || !strings.Contains(r.stderr, "run the daemon (or this command with --upgrade-source) once to migrate it") {
		t.Fatalf("older source: exit %d\n%s", r.code, r.stderr)
	}
	// Version 8 → 10 rebuilds replies; the rows survive it and are copied.
	r = runCLI(t, nil, "migrate", "--from", "sqlite:"+src, "--to", dsn, "--upgrade-source")
	if r.code != 0 || !tableLine("replies", "2", "2", "2", "2", "ok").MatchString(r.stdout) {
		t.Errorf("--upgrade-source: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
