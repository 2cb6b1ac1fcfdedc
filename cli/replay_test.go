package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// replayStart is 10:00 in Shanghai, the replayed period's start.
var replayStart = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

// replayComment is one comment the daemon evaluated and its claim.
type replayComment struct {
	min        int // minutes after replayStart
	id, uid    string
	nick, text string
	rule       string // "" when no rule acted
	status     string
	reason     string
	reply      string
}

// replayComments are what the old rules (price without cooldown, spam,
// thanks) did in the hour replayed, with a comment before it.
var replayComments = []replayComment{
	{min: -30, id: "7300000000000000000", uid: "1009", nick: "早起的鸟", text: "谢谢", rule: "thanks", status: model.StatusSent, reply: "不客气～"},
	{min: 1, id: "7300000000000000001", uid: "1001", nick: "小明", text: "这个多少钱[呲牙]", rule: "price", status: model.StatusSent, reply: "小明 你好，价格请看橱窗[比心]"},
	{min: 2, id: "7300000000000000002", uid: "1002", nick: "史密斯夫妇💑", text: "多少钱😂", rule: "price", status: model.StatusSent, reply: "亲，价格在橱窗里哦"},
	{min: 3, id: "7300000000000000003", uid: "1001", nick: "小明", text: "还是想问多少钱", rule: "price", status: model.StatusSent, reply: "亲，价格在橱窗里哦"},
	{min: 4, id: "7300000000000000004", uid: "1003", nick: "王五", text: "差评！骗子"},
	{min: 5, id: "7300000000000000005", uid: "1004", nick: "spammer", text: "加微信 vx123", rule: "spam", status: model.StatusSkipped, reason: model.ReasonNoReplyRule},
	{min: 6, id: "7300000000000000006", uid: "1005", nick: "李四", text: "我要退款 😭"},
	{min: 7, id: "7300000000000000007", uid: "1006", nick: "Emma", text: "谢谢主播", rule: "thanks", status: model.StatusSent, reply: "不客气～"},
	{min: 8, id: "7300000000000000008", uid: "1007", nick: "Bob", text: "#abc"},
	// Hostile: terminal escapes, a bidi override, a secret of the config.
	{min: 9, id: "7300000000000000009", uid: "1008", nick: "小明\u202e", text: "差评 kk-key" + forge},
}

// replayWorld writes a config (Asia/Shanghai) and a database holding
// replayComments; it returns the config's path.
func replayWorld(t *testing.T) string {
	t.Helper()
	cfg, db := checkWorld(t, goodRules, "")
	seedReplay(t, db)
	return cfg
}

// seedReplay records replayComments in the database db (a file or a
// PostgreSQL URL).
func seedReplay(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, st)
	for _, rc := range replayComments {
		at := replayStart.Add(time.Duration(rc.min) * time.Minute)
		c := model.Comment{Platform: model.PlatformDouyin, ID: rc.id, ThreadID: threadA, PostID: aweme, RootID: threadA, ReplyToID: "0",
			Text: rc.text, CreatedAt: at.Add(-time.Minute), User: model.User{UID: rc.uid, Nickname: rc.nick}}
		var claims []store.Claim
		if rc.rule != "" {
			claims = []store.Claim{{Rule: rc.rule, Responder: "kitkot", Status: rc.status, Reason: rc.reason, ReplyText: rc.reply}}
			if rc.status == model.StatusSent {
				claims[0].Status = model.StatusPending
			}
		}
		won, err := st.Record(ctx, c, model.DispositionEvaluated, claims, at)
		if err != nil {
			t.Fatal(err)
		}
		if rc.status == model.StatusSent {
			if err := st.Settle(ctx, won[0].ID, store.Settlement{Status: model.StatusSent}, at); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var replayPeriod = []string{"--rules", "testdata/replay.rules.yaml", "--since", "2026-11-23 10:00", "--until", "2026-11-23 11:00"}

func replayOK(t *testing.T, args ...string) string {
	t.Helper()
	r := runCLI(t, nil, append([]string{"replay"}, args...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("replay %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

// The report a rule author reads before a reload: what changes (a cooldown
// now holding an answer back, a rule gone, new rules flagging and holding
// answers), not what stays (the variant the daemon picked), and the counts.
func TestReplayGolden(t *testing.T) {
	t.Parallel()
	cfg := replayWorld(t)
	db := filepath.Join(filepath.Dir(cfg), "state", "autoreplyd.db")
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	out := replayOK(t, append([]string{"--config", cfg}, replayPeriod...)...)
	golden(t, "replay.table.golden", out)
	// Read-only: the database is as it was.
	if after, err := os.ReadFile(db); err != nil || !bytes.Equal(before, after) {
		t.Errorf("replay changed the database (read: %v)", err)
	}
	assertSafe(t, "replay", out)
	if !strings.Contains(out, `"差评 [redacted]\x1b[2J\x1b[H...\nsecond line\u202eevil"`) {
		t.Errorf("the hostile comment is not shown escaped:\n%s", out)
	}

	// Without pacing the cooldown holds nothing back: comment 3 is as it
	// was.
	out = replayOK(t, append([]string{"--config", cfg, "--no-pacing"}, replayPeriod...)...)
	if strings.Contains(out, "7300000000000000003") || !strings.Contains(out, "pacing        left out (--no-pacing)") {
		t.Errorf("--no-pacing:\n%s", out)
	}
	if !strings.HasSuffix(out, "\n9 comment(s) replayed, 4 changed\n") {
		t.Errorf("--no-pacing totals:\n%s", out)
	}
}

// JSON Lines: one object per changed comment with the texts exactly (only
// the config's secrets scrubbed), then the summary.
func TestReplayJSON(t *testing.T) {
	t.Parallel()
	cfg := replayWorld(t)
	out := replayOK(t, append([]string{"--config", cfg, "--format", "json"}, replayPeriod...)...)
	var changes []replayChangeJSON
	var sum replaySummaryJSON
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var kind struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &kind); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		switch kind.Type {
		case "change":
			var c replayChangeJSON
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				t.Fatal(err)
			}
			changes = append(changes, c)
		case "summary":
			if err := json.Unmarshal(sc.Bytes(), &sum); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("line of type %q: %s", kind.Type, sc.Text())
		}
	}
	if !strings.HasSuffix(out, "}\n") || !strings.Contains(out[strings.LastIndex(out[:len(out)-1], "\n")+1:], `"type":"summary"`) {
		t.Errorf("the summary is not the last line:\n%s", out)
	}
	if len(changes) != 5 {
		t.Fatalf("%d changes, want 5:\n%s", len(changes), out)
	}
	byID := map[string]replayChangeJSON{}
	for _, c := range changes {
		byID[c.CommentID] = c
	}
	paced := byID["7300000000000000003"]
	if paced.Platform != "douyin" || paced.ThreadID != threadA || paced.PostID != aweme || paced.User != "小明" || paced.UserUID != "1001" ||
		paced.SeenAt != "2026-11-23T02:03:00Z" || paced.CommentCreatedAt != "2026-11-23T02:02:00Z" ||
		len(paced.Old) != 1 || paced.Old[0] != (replayOldJSON{Rule: "price", Status: "sent", ReplyText: "亲，价格在橱窗里哦"}) ||
		len(paced.New) != 1 || paced.New[0].Outcome != "paced" || paced.New[0].Reason != "cooldown" || paced.New[0].Action != "reply" ||
		paced.New[0].ReplyText != "小明 你好，价格请看橱窗[比心]" || len(paced.New[0].Variants) != 2 {
		t.Errorf("comment 3: %+v", paced)
	}
	held := byID["7300000000000000006"]
	if held.CommentText != "我要退款 😭" || len(held.Old) != 0 || held.Old == nil || len(held.New) != 1 ||
		held.New[0].Outcome != "held" || !held.New[0].Approve || held.New[0].ReplyText != "李四 您好，退款请私信客服😊" || held.New[0].Variants != nil {
		t.Errorf("comment 6: %+v", held)
	}
	lost := byID["7300000000000000007"]
	if len(lost.New) != 0 || lost.New == nil || lost.Old[0].Rule != "thanks" {
		t.Errorf("comment 7: %+v", lost)
	}
	hostile := byID["7300000000000000009"]
	if hostile.CommentText != "差评 [redacted]"+forge || hostile.User != "小明\u202e" ||
		hostile.New[0].Outcome != "flag" || hostile.New[0].Action != "flag" || len(hostile.New[0].Notify) != 1 || hostile.New[0].Notify[0] != "ops" {
		t.Errorf("comment 9: %+v", hostile)
	}
	if strings.Contains(out, "kk-key") {
		t.Errorf("a secret in the output:\n%s", out)
	}
	if sum.Pacing != "replayed" || sum.Comments != 9 || sum.Changed != 5 || sum.RulesPath != "testdata/replay.rules.yaml" ||
		sum.Since != "2026-11-23T02:00:00Z" || sum.Until != "2026-11-23T03:00:00Z" || len(sum.Rules) != 6 ||
		sum.Rules[3] != (replayRuleJSON{Rule: "price", Old: 3, New: 3, Changed: 1}) ||
		sum.Rules[5] != (replayRuleJSON{Rule: "thanks", Old: 1, Lost: 1}) || sum.Rules[2].Errors != 1 {
		t.Errorf("summary %+v", sum)
	}
}

// --database and --rules need no config; the zone is the one the daemon
// recorded.
func TestReplayWithoutConfig(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "autoreplyd.db")
	seedHistory(t, db, seedRows)
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta(context.Background(), store.MetaTimezone, "Asia/Shanghai"); err != nil {
		t.Fatal(err)
	}
	testutil.Close(t, st)
	none := []string{"AUTOREPLYD_CONFIG=" + filepath.Join(t.TempDir(), "none.yaml")}
	r := runCLI(t, none, "replay", "--database", db, "--rules", "testdata/replay.rules.yaml", "--since", "")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"period        comments evaluated from the first comment to now (Asia/Shanghai)\n",
		"2026-11-22 07:00:00  douyin  thread " + threadA, "\n8 comment(s) replayed, "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// Without --rules, the config names them: there is none.
	r = runCLI(t, none, "replay", "--database", db)
	if r.code != 1 || !strings.Contains(r.stderr, "none.yaml") {
		t.Errorf("no config: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestReplayErrors(t *testing.T) {
	t.Parallel()
	cfg := replayWorld(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "rules.yaml")
	testutil.WriteFile(t, bad, "rules:\n  - name: price\n    when: 'txt contains \"多少钱\"'\n    reply: x\n  - name: flagged\n    when: 'true'\n    action: flag\n    reply: y\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"rules do not load", []string{"--config", cfg, "--rules", bad}, 1, []string{
			bad + `:3:12: rule "price": when: unknown name "txt" (did you mean "text"?)`,
			bad + `:7:5: rule "flagged": action flag with reply`}},
		{"csv", []string{"--config", cfg, "--format", "csv"}, 2, []string{`--format: "csv" is not valid (valid: table, json)`}},
		{"bad since", []string{"--config", cfg, "--since", "last week"}, 1, []string{"--since"}},
		{"no database", []string{"--database", filepath.Join(dir, "none.db"), "--rules", "testdata/replay.rules.yaml"}, 1, []string{"none.db does not exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"replay"}, tc.args...)...)
			if r.code != tc.code || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want exit %d and nothing", r.code, r.stdout, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}
