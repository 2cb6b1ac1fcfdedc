package cli

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

// weiboResponder is a responders section of type weibo, to append to
// configYAML's responders.
const weiboResponder = `  weibo:
    base_url: http://127.0.0.1:1
    access_token: wb-token
`

// decideWorld is a config (kitkot and weibo responders, approval.max_age
// 24h unless extra says otherwise) and its database holding inboxRows made
// relative to now.
func decideWorld(t *testing.T, now time.Time, extra string) (cfg, db string) {
	t.Helper()
	dir := t.TempDir()
	db = filepath.Join(dir, "autoreplyd.db")
	seedHistory(t, db, inboxRows(now))
	cfg = filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfg, configYAML("autoreplyd.db", "rules.yaml", weiboResponder+extra))
	return cfg, db
}

// claim is the history record of claim id.
func claim(t *testing.T, db string, id int) historyJSON {
	t.Helper()
	return claimJSON(t, db, strconv.Itoa(id))
}

func TestApproveRejectDone(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	cfg, db := decideWorld(t, now, "")
	before := time.Now().UTC().Add(-time.Second)
	for _, tc := range []struct {
		id                     int
		args                   []string
		stdout                 string
		status, by, note, text string
	}{
		{inboxHeld, []string{"approve", "--by", "lin", "3"},
			"claim 3 (douyin comment 7300000000000000203, rule price): held → approved; the daemon sends it on its next cycle\n",
			model.StatusRetrying, "lin", "", "史密斯夫妇💑 你好，价格请看橱窗🛒"},
		{inboxWeibo, []string{"approve", "4", "--text", "  微博用户 你好，价格是 99 元 🛒\n", "--by", "客服小王"},
			"claim 4 (weibo comment 5000000000000201, rule price): held → approved with the edited answer; the daemon sends it on its next cycle\n",
			model.StatusRetrying, "客服小王", "edited", "微博用户 你好，价格是 99 元 🛒"},
		{inboxLateHeld, []string{"reject", "2", "--reason", "价格已经变了", "--by", "lin"},
			"claim 2 (douyin comment 7300000000000000202, rule price): held → rejected; never sent\n",
			model.StatusRejected, "lin", "价格已经变了", "小王 你好，价格请看橱窗"},
		{inboxFlag, []string{"done", "5", "--by", "ops"},
			"claim 5 (douyin comment 7300000000000000204, rule complaint): flagged → handled\n",
			model.StatusHandled, "ops", "", ""},
	} {
		r := runCLI(t, nil, append(tc.args, "--config", cfg)...)
		if r.code != 0 || r.stdout != tc.stdout || r.stderr != "" {
			t.Fatalf("%v: exit %d\nstdout %q\nwant   %q\nstderr %q", tc.args, r.code, r.stdout, tc.stdout, r.stderr)
		}
		got := claim(t, db, tc.id)
		if got.Status != tc.status || got.DecidedBy != tc.by || got.DecisionNote != tc.note || got.ReplyText != tc.text {
			t.Errorf("%v: history %+v", tc.args, got)
		}
		if at, err := time.Parse(time.RFC3339, got.DecidedAt); err != nil || at.Before(before.Truncate(time.Second)) {
			t.Errorf("%v: decided_at %q, want the time of the command", tc.args, got.DecidedAt)
		}
		if tc.status == model.StatusRetrying && got.Reason != model.ReasonApproved {
			t.Errorf("%v: reason %q, want %s", tc.args, got.Reason, model.ReasonApproved)
		}
	}
	// What was decided leaves the inbox.
	if got := claimIDs(t, inbox(t, nil, "--config", cfg, "--format", "json").stdout); !slices.Equal(got, []int{inboxFormula, inboxOldFlag}) {
		t.Errorf("inbox after the decisions: %v", got)
	}
}

// A decision the claim's status does not allow, or about no claim, exits 1
// saying why, and changes nothing.
func TestDecideRefused(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	cfg, db := decideWorld(t, now, "")
	r := runCLI(t, nil, "approve", "--config", cfg, "--by", "lin", "3")
	if r.code != 0 {
		t.Fatalf("approve: exit %d, %s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"approve twice", []string{"approve", "3"}, []string{"approve claim 3: it is retrying (decided by lin at ", "only a held claim can be approved"}},
		{"approve a flagged comment", []string{"approve", "5"}, []string{"approve claim 5: it is flagged; only a held claim can be approved"}},
		{"approve sent", []string{"approve", "6"}, []string{"it is sent"}},
		{"reject flagged", []string{"reject", "5", "--reason", "no"}, []string{"reject claim 5: it is flagged; only a held claim can be rejected"}},
		{"done held", []string{"done", "4"}, []string{"done claim 4: it is held; only a flagged claim can be marked done"}},
		{"edited, not held", []string{"approve", "5", "--text", "好的"}, []string{"it is flagged"}},
		{"missing", []string{"reject", "99"}, []string{"claim 99", "no such claim"}},
		{"bad id", []string{"done", "abc"}, []string{`claim id "abc" is not a positive number`}},
		{"zero id", []string{"approve", "0"}, []string{`claim id "0" is not a positive number`}},
		{"no id", []string{"approve"}, []string{"accepts 1 arg"}},
		{"empty text", []string{"approve", "4", "--text", " \n"}, []string{"--text: the edited answer is empty"}},
		{"control in text", []string{"approve", "4", "--text", "价格\x1b[2J请看"}, []string{`--text: 价格\x1b[2J请看 holds a control character`}},
		{"line break in text", []string{"approve", "4", "--text", "价格\n请看"}, []string{`价格\n请看 holds a control character`}},
		{"override in reason", []string{"reject", "4", "--reason", "no\u202eok"}, []string{`--reason: no\u202eok holds`}},
		// 回复@微博用户: is 7 weighted characters: 134 more make 141.
		{"too long for Weibo", []string{"approve", "4", "--text", strings.Repeat("价", 134)},
			[]string{"--text: responder weibo refuses the edited answer: reply is 141 weighted characters with the 回复@name: prefix, more than Weibo's 140; nothing changed"}},
		{"too long for kitkot", []string{"approve", "2", "--text", strings.Repeat("价", 151)},
			[]string{"--text: responder kitkot refuses the edited answer: reply is 151 characters, more than responders.kitkot.max_length (150)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := historyOK(t, nil, "--database", db, "--format", "json", "--limit", "0")
			r := runCLI(t, nil, append(tc.args, "--config", cfg, "--by", "ops")...)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not say %q", r.stderr, w)
				}
			}
			assertSafe(t, "stderr", r.stderr)
			if after := historyOK(t, nil, "--database", db, "--format", "json", "--limit", "0"); after != before {
				t.Errorf("a refused decision changed the history")
			}
		})
	}
	// The longest text Weibo takes is approved.
	r = runCLI(t, nil, "approve", "--config", cfg, "--by", "lin", "4", "--text", strings.Repeat("价", 133))
	if r.code != 0 || claim(t, db, 4).ReplyText != strings.Repeat("价", 133) {
		t.Errorf("133 characters and the prefix: exit %d, %s", r.code, r.stderr)
	}
}

// --by defaults to $SUDO_USER (the person behind sudo), then $USER; nobody
// is refused.
func TestDecideBy(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	_, db := decideWorld(t, now, "")
	for _, tc := range []struct {
		environ []string
		args    []string
		id, by  string
	}{
		{[]string{"USER=root", "SUDO_USER=lin"}, []string{"approve", "3"}, "3", "lin"},
		{[]string{"USER=ops", "SUDO_USER="}, []string{"reject", "2"}, "2", "ops"},
		{[]string{"USER=ops", "SUDO_USER=lin"}, []string{"done", "5", "--by", "小林"}, "5", "小林"}, // --by wins
	} {
		r := runCLI(t, tc.environ, append(tc.args, "--database", db)...)
		if r.code != 0 {
			t.Fatalf("%v with %v: exit %d, %s", tc.args, tc.environ, r.code, r.stderr)
		}
		if got := claimJSON(t, db, tc.id).DecidedBy; got != tc.by {
			t.Errorf("%v with %v: decided_by %q, want %q", tc.args, tc.environ, got, tc.by)
		}
	}
	for _, environ := range [][]string{nil, {"USER=", "SUDO_USER=  "}} {
		r := runCLI(t, environ, "reject", "--database", db, "4")
		if r.code != 1 || !strings.Contains(r.stderr, "who decides? give --by NAME") {
			t.Errorf("nobody with %v: exit %d, %q", environ, r.code, r.stderr)
		}
	}
	if got := claimJSON(t, db, "4"); got.Status != model.StatusHeld {
		t.Errorf("claim 4 is %s after refusals", got.Status)
	}
}

// Without the config an edited answer cannot be checked: refused. Approving
// as written needs the database alone, approval.max_age then its default,
// which approve says.
func TestApproveWithoutConfig(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	cfg, db := decideWorld(t, now, "")
	r := runCLI(t, nil, "approve", "--database", db, "--by", "lin", "4", "--text", "好的")
	if r.code != 1 || !strings.Contains(r.stderr, "--text: the edited answer cannot be checked against its responder's limits: --database alone reads no config; give --config, or approve without --text") {
		t.Errorf("--text without config: exit %d, %q", r.code, r.stderr)
	}
	// A config that does not load, beside --database: the same.
	broken := filepath.Join(filepath.Dir(cfg), "broken.yaml")
	testutil.WriteFile(t, broken, "database: [\n")
	r = runCLI(t, nil, "approve", "--database", db, "--config", broken, "--by", "lin", "4", "--text", "好的")
	if r.code != 1 || !strings.Contains(r.stderr, "--text: the edited answer cannot be checked against its responder's limits: the config did not load: "+broken) {
		t.Errorf("--text with a broken config: exit %d, %q", r.code, r.stderr)
	}
	if got := claim(t, db, 4); got.Status != model.StatusHeld || got.ReplyText != "微博用户 你好，价格请看橱窗" {
		t.Fatalf("refused edits changed the claim: %+v", got)
	}
	r = runCLI(t, nil, "approve", "--database", db, "--by", "lin", "4")
	if r.code != 0 || r.stderr != defaultMaxAgeNote || !strings.Contains(r.stdout, "held → approved") {
		t.Errorf("approve as written with --database: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	// Without --database, a config that does not load is an error.
	r = runCLI(t, nil, "done", "--config", broken, "--by", "lin", "5")
	if r.code != 1 || !strings.Contains(r.stderr, broken) {
		t.Errorf("done with a broken config: exit %d, %q", r.code, r.stderr)
	}
	// reject and done do not need max_age: no note.
	r = runCLI(t, nil, "done", "--database", db, "--by", "lin", "5")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("done with --database: exit %d, %q", r.code, r.stderr)
	}
}

// Past approval.max_age, approve records the claim expired and exits 1
// saying so: never sent.
func TestApproveExpired(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	cfg, db := decideWorld(t, now, "approval:\n  max_age: 90m\n")
	// Held 2h ago, max_age 90m.
	r := runCLI(t, nil, "approve", "--config", cfg, "--by", "lin", "3")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "past approval.max_age 1h30m0s: recorded expired, never sent") {
		t.Errorf("late approve: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	if got := claim(t, db, 3); got.Status != model.StatusExpired || got.Reason != model.ReasonMaxAge {
		t.Errorf("late claim: %+v", got)
	}
	// Held 1h ago: still in time.
	if r := runCLI(t, nil, "approve", "--config", cfg, "--by", "lin", "4"); r.code != 0 {
		t.Errorf("approve in time: exit %d, %s", r.code, r.stderr)
	}
	// With --database alone, the default 24h: the claim held 30h expires,
	// and the note says which max_age was used.
	r = runCLI(t, nil, "approve", "--database", db, "--by", "lin", "2")
	if r.code != 1 || !strings.HasPrefix(r.stderr, defaultMaxAgeNote) || !strings.Contains(r.stderr, "past approval.max_age 24h0m0s: recorded expired") {
		t.Errorf("late approve with --database: exit %d, %q", r.code, r.stderr)
	}
	if got := claim(t, db, 2); got.Status != model.StatusExpired {
		t.Errorf("claim 2: %+v", got)
	}
}

// approve works while the daemon holds the database: it waits for the
// daemon's write transaction (the busy timeout) instead of failing.
func TestApproveWhileTheDatabaseIsBusy(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	_, db := decideWorld(t, now, "")
	daemon, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, daemon)
	tx, err := daemon.Begin()
	if err != nil {
		t.Fatal(err)
	}
	// A write of the daemon's, in progress: the write lock is held.
	if _, err := tx.Exec(`UPDATE replies SET updated_at = updated_at WHERE id = 6`); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() { done <- runCLI(t, nil, "approve", "--database", db, "--by", "lin", "3") }()
	// Give approve time to reach the lock; it cannot finish while it is
	// held but by failing, which the check below catches.
	time.Sleep(300 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("approve returned while the database was locked: exit %d, %q", r.code, r.stderr)
	default:
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 || !strings.Contains(r.stdout, "held → approved") {
		t.Fatalf("approve: exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	if got := claim(t, db, 3); got.Status != model.StatusRetrying || got.DecidedBy != "lin" {
		t.Errorf("claim 3: %+v", got)
	}
}

func TestDecideMissingDatabase(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "nope.db")
	r := runCLI(t, nil, "approve", "--database", db, "--by", "lin", "1")
	if r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatalf("approve created %s", db)
	}
}
