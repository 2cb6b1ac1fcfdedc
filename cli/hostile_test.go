package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// The forging message of the issue: it clears the screen and starts a line
// of its own; then a right-to-left override reverses what follows.
const forge = "\x1b[2J\x1b[H...\nsecond line\u202eevil"

// hostileDB writes, as a version without scrubbing would have, platform
// strings carrying terminal escapes, bidi overrides and the config's secrets
// (configYAML's jo-token and kk-key) into a database.
func hostileDB(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, st)
	now := time.Now().Add(-time.Minute)
	c := model.Comment{Platform: model.PlatformDouyin, ID: "73000\x1b[31m01", ThreadID: "7251524159191958327",
		Text: "多少钱" + forge, User: model.User{UID: "1001", Nickname: "小明\u202e"}, CreatedAt: now}
	won, err := st.Record(ctx, c, model.DispositionEvaluated, []store.Claim{{Rule: "price", Responder: "kitkot", Status: model.StatusPending, ReplyText: "价格请看橱窗"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Settle(ctx, won[0].ID, store.Settlement{Status: model.StatusFailed, Reason: "platform_400" + forge,
		Error: "code 400: echo token=jo-token key kk-key" + forge}, now); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPause(ctx, "source:douyin", now.Add(time.Hour), "code 601: api_key=kk-key"+forge, now); err != nil {
		t.Fatal(err)
	}
}

// assertSafe fails when out holds a raw control character (but newlines),
// a bidi override or a secret.
func assertSafe(t *testing.T, what, out string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\r", "\u202e", "jo-token", "kk-key"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s prints %q:\n%s", what, bad, out)
		}
	}
	if strings.Contains(out, "\nsecond line") {
		t.Errorf("%s prints a forged line:\n%s", what, out)
	}
}

// TestOutputEscapedAndScrubbed: history (table, json, csv), resume --list,
// check and resolve print platform strings without terminal escapes, bidi
// overrides or any configured secret.
func TestOutputEscapedAndScrubbed(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	hostileDB(t, db)

	r := runCLI(t, nil, "history", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("history: exit %d: %s", r.code, r.stderr)
	}
	assertSafe(t, "history", r.stdout)
	for _, want := range []string{`73000\x1b[31m01`, `platform_400\x1b[2J\x1b[H...\nsecond`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history lacks the escaped %q:\n%s", want, r.stdout)
		}
	}
	for _, format := range []string{"json", "csv"} {
		r := runCLI(t, nil, "history", "--config", cfg, "--format", format)
		if r.code != 0 || strings.Contains(r.stdout, "jo-token") || strings.Contains(r.stdout, "kk-key") || !strings.Contains(r.stdout, "[redacted]") {
			t.Errorf("history --format %s: exit %d, a secret or no [redacted]:\n%s", format, r.code, r.stdout)
		}
	}

	r = runCLI(t, nil, "resume", "--list", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("resume --list: exit %d: %s", r.code, r.stderr)
	}
	assertSafe(t, "resume --list", r.stdout)
	if !strings.Contains(r.stdout, `api_key=[redacted]\x1b[2J\x1b[H...\nsecond line\u202eevil`) {
		t.Errorf("resume --list does not show the escaped, scrubbed reason:\n%s", r.stdout)
	}

	r = runCLI(t, nil, "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("check: exit %d: %s", r.code, r.stderr)
	}
	assertSafe(t, "check", r.stdout+r.stderr)
	if !strings.Contains(r.stdout, `paused: source:douyin paused until`) {
		t.Errorf("check does not list the pause:\n%s", r.stdout)
	}

	r = runCLI(t, nil, "resolve", "--config", cfg, "--retry", "1")
	if r.code != 0 {
		t.Fatalf("resolve: exit %d: %s", r.code, r.stderr)
	}
	assertSafe(t, "resolve", r.stdout)

	// stats names rules only; its table goes through the same escaping.
	r = runCLI(t, nil, "stats", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("stats: exit %d: %s", r.code, r.stderr)
	}
	assertSafe(t, "stats", r.stdout)
}
