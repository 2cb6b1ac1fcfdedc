package replay

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// t0 is 10:00 in Shanghai, a Monday: the period starts here.
var t0 = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

const thread = "7251524159191958327"

// seen is one comment the daemon evaluated, and the claims it recorded.
type seen struct {
	at     time.Duration // after t0
	id     string
	uid    string
	text   string
	claims []store.Claim
	thread string // "" is thread
}

func sent(rule, text string) store.Claim {
	return store.Claim{Rule: rule, Responder: "kitkot", Status: model.StatusPending, ReplyText: text}
}

func claim(rule, status, reason, text string) store.Claim {
	return store.Claim{Rule: rule, Responder: "kitkot", Status: status, Reason: reason, ReplyText: text}
}

// history writes the comments into a new database as the daemon does and
// returns its path.
func history(t testing.TB, comments []seen) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "autoreplyd.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, st)
	if err := st.SetThreadLabels(ctx, []store.ThreadLabels{{Platform: model.PlatformDouyin, ThreadID: thread,
		Labels: map[string]string{"campaign": "spring"}}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range comments {
		c := model.Comment{Platform: model.PlatformDouyin, ID: s.id, ThreadID: thread, PostID: "7251517975340027197",
			RootID: thread, ReplyToID: "0", Text: s.text, CreatedAt: t0.Add(s.at - time.Minute),
			User: model.User{UID: s.uid, Nickname: "nick-" + s.uid}}
		if s.thread != "" {
			c.ThreadID, c.RootID = s.thread, s.thread
		}
		if _, err := st.Record(ctx, c, model.DispositionEvaluated, s.claims, t0.Add(s.at)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// result is what a replay found.
type result struct {
	changes []Change
	sum     *Summary
}

// changed lists the ids of the changed comments.
func (r result) changed() []string {
	var ids []string
	for _, c := range r.changes {
		ids = append(ids, c.Comment.ID)
	}
	return ids
}

func (r result) change(t *testing.T, id string) Change {
	t.Helper()
	for _, c := range r.changes {
		if c.Comment.ID == id {
			return c
		}
	}
	t.Fatalf("comment %s did not change; changed: %v", id, r.changed())
	return Change{}
}

func (r result) rule(t *testing.T, name string) RuleCount {
	t.Helper()
	for _, rc := range r.sum.Rules {
		if rc.Rule == name {
			return rc
		}
	}
	t.Fatalf("no counts for rule %s in %+v", name, r.sum.Rules)
	return RuleCount{}
}

// open loads the rules src (times in Shanghai) and opens the database at
// path read-only, as replay does; the test closes it.
func open(tb testing.TB, path, src string) (*rules.Set, *store.Store) {
	tb.Helper()
	set, err := rules.LoadBytes("rules.yaml", []byte(src), rules.Options{Location: shanghai})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.OpenReadOnly(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { testutil.Close(tb, st) })
	return set, st
}

// run replays the database at path with the rules src.
func run(t *testing.T, path, src string, opts Options) result {
	t.Helper()
	set, st := open(t, path, src)
	var res result
	var err error
	res.sum, err = Run(context.Background(), st, set, opts, func(ch *Change) error {
		c := *ch
		c.Old, c.New = slices.Clone(ch.Old), slices.Clone(ch.New)
		res.changes = append(res.changes, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const oldRules = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'text contains "多少钱"'
    reply: ['{{ user.nickname }} 你好，价格请看橱窗', '亲，价格在橱窗里哦']
  - name: thanks
    when: 'text contains "谢谢"'
    reply: 不客气～
`

// An edited rule gains and loses hits, a new rule gains, a removed rule
// loses, and the counts say so; unchanged comments are not reported.
func TestEditedRules(t *testing.T) {
	t.Parallel()
	path := history(t, []seen{
		{at: time.Minute, id: "1", uid: "u1", text: "这个多少钱", claims: []store.Claim{sent("price", "nick-u1 你好，价格请看橱窗")}},
		{at: 2 * time.Minute, id: "2", uid: "u2", text: "价格呢", claims: nil},
		{at: 3 * time.Minute, id: "3", uid: "u3", text: "加微信 vx", claims: []store.Claim{claim("spam", model.StatusSkipped, model.ReasonNoReplyRule, "")}},
		{at: 4 * time.Minute, id: "4", uid: "u4", text: "谢谢", claims: []store.Claim{sent("thanks", "不客气～")}},
		{at: 5 * time.Minute, id: "5", uid: "u5", text: "差评，骗子", claims: nil},
		{at: 6 * time.Minute, id: "6", uid: "u6", text: "多少钱 谢谢", claims: []store.Claim{sent("price", "亲，价格在橱窗里哦")}},
	})
	newRules := `rules:
  - name: complaint
    when: 'containsAny(text, ["差评", "骗子"])'
    action: flag
    notify: [ops]
  - name: price
    when: 'text matches "价格|价钱"'
    reply: ['{{ user.nickname }} 你好，价格请看橱窗', '亲，价格在橱窗里哦']
  - name: thanks
    when: 'text contains "谢谢"'
    reply: 不客气～
`
	res := run(t, path, newRules, Options{Since: t0})
	if want := []string{"1", "2", "3", "5", "6"}; !slices.Equal(res.changed(), want) {
		t.Fatalf("changed %v, want %v", res.changed(), want)
	}
	// Lost: price no longer matches 多少钱.
	if ch := res.change(t, "1"); len(ch.Old) != 1 || ch.Old[0].Rule != "price" || ch.Old[0].Kind != Answer || len(ch.New) != 0 {
		t.Errorf("comment 1: %+v", ch)
	}
	// Gained: 价格 now matches, at the time it was seen, with the
	// comment's nickname.
	if ch := res.change(t, "2"); len(ch.Old) != 0 || len(ch.New) != 1 || ch.New[0].Kind != Answer ||
		!slices.Equal(ch.New[0].Replies, []string{"nick-u2 你好，价格请看橱窗", "亲，价格在橱窗里哦"}) || !ch.SeenAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("comment 2: %+v", ch)
	}
	// Lost: spam was removed.
	if ch := res.change(t, "3"); len(ch.Old) != 1 || ch.Old[0].Kind != Skip || len(ch.New) != 0 {
		t.Errorf("comment 3: %+v", ch)
	}
	// Gained: flagged for a person.
	if ch := res.change(t, "5"); len(ch.New) != 1 || ch.New[0].Kind != Flag || ch.New[0].Action != rules.ActionFlag || !slices.Equal(ch.New[0].Notify, []string{"ops"}) {
		t.Errorf("comment 5: %+v", ch)
	}
	// price is lost; thanks, not continue, no longer acts after it.
	if ch := res.change(t, "6"); len(ch.Old) != 1 || len(ch.New) != 1 || ch.New[0].Rule != "thanks" {
		t.Errorf("comment 6: %+v", ch)
	}
	for _, want := range []RuleCount{
		{Rule: "complaint", New: 1, Gained: 1},
		{Rule: "price", Old: 2, New: 1, Gained: 1, Lost: 2},
		{Rule: "thanks", Old: 1, New: 2, Gained: 1},
		{Rule: "spam", Old: 1, Lost: 1},
	} {
		if got := res.rule(t, want.Rule); got != want {
			t.Errorf("counts %+v, want %+v", got, want)
		}
	}
	// New rules in order, then the history's other rules by name.
	var names []string
	for _, rc := range res.sum.Rules {
		names = append(names, rc.Rule)
	}
	if want := []string{"complaint", "price", "thanks", "spam"}; !slices.Equal(names, want) {
		t.Errorf("rules %v, want %v", names, want)
	}
	if res.sum.Comments != 6 || res.sum.Changed != 5 {
		t.Errorf("summary %+v", res.sum)
	}

	// The same rules change nothing.
	if res := run(t, path, oldRules, Options{Since: t0}); len(res.changes) != 0 || res.sum.Comments != 6 || res.sum.Changed != 0 {
		t.Errorf("the old rules: %d changes, %+v", len(res.changes), res.sum)
	}
	// The period bounds what is replayed.
	if res := run(t, path, newRules, Options{Since: t0.Add(2 * time.Minute), Until: t0.Add(5 * time.Minute)}); !slices.Equal(res.changed(), []string{"2", "3"}) || res.sum.Comments != 3 {
		t.Errorf("period [2m, 5m): changed %v, %+v", res.changed(), res.sum)
	}
}

// Which variant the daemon picked is not a change; a text no variant
// renders is.
func TestVariantRotation(t *testing.T) {
	t.Parallel()
	path := history(t, []seen{
		{at: time.Minute, id: "1", uid: "u1", text: "多少钱", claims: []store.Claim{sent("price", "nick-u1 你好，价格请看橱窗")}},
		{at: 2 * time.Minute, id: "2", uid: "u2", text: "多少钱", claims: []store.Claim{sent("price", "亲，价格在橱窗里哦")}},
	})
	if res := run(t, path, oldRules, Options{}); len(res.changes) != 0 {
		t.Errorf("variants reported as changes: %+v", res.changes)
	}
	oneVariant := strings.Replace(oldRules, `['{{ user.nickname }} 你好，价格请看橱窗', '亲，价格在橱窗里哦']`, `'{{ user.nickname }} 你好，价格请看橱窗'`, 1)
	res := run(t, path, oneVariant, Options{})
	if !slices.Equal(res.changed(), []string{"2"}) || res.rule(t, "price") != (RuleCount{Rule: "price", Old: 2, New: 2, Changed: 1}) {
		t.Errorf("a variant removed: changed %v, %+v", res.changed(), res.sum.Rules)
	}
}

// A cooldown added to a rule holds back the answers it would not have
// given; --no-pacing leaves it out. The pacing counts the answers stored
// before the period and the replayed ones in it.
func TestPacingReplayed(t *testing.T) {
	t.Parallel()
	path := history(t, []seen{
		// Before the period: u1 was answered an hour before it starts.
		{at: -time.Hour, id: "0", uid: "u1", text: "谢谢", claims: []store.Claim{sent("thanks", "不客气～")}},
		{at: time.Minute, id: "1", uid: "u1", text: "谢谢", claims: []store.Claim{sent("thanks", "不客气～")}},
		{at: 2 * time.Minute, id: "2", uid: "u2", text: "谢谢", claims: []store.Claim{sent("thanks", "不客气～")}},
		{at: 3 * time.Minute, id: "3", uid: "u2", text: "谢谢谢谢", claims: []store.Claim{sent("thanks", "不客气～")}},
		// Held back by a cooldown of the old rules; u3 was never answered
		// before, so the new cooldown lets it through.
		{at: 4 * time.Minute, id: "4", uid: "u3", text: "谢谢", claims: []store.Claim{claim("thanks", model.StatusSkipped, pacing.ReasonCooldown, "不客气～")}},
	})
	cooldown := strings.Replace(oldRules, "reply: 不客气～", "reply: 不客气～\n    cooldown: {user: 24h}", 1)
	res := run(t, path, cooldown, Options{Since: t0})
	// 1: u1's answer before the period; 3: u2's replayed answer at 2m;
	// 4: nothing holds u3 back.
	if want := []string{"1", "3", "4"}; !slices.Equal(res.changed(), want) {
		t.Fatalf("changed %v, want %v", res.changed(), want)
	}
	for _, id := range []string{"1", "3"} {
		if ch := res.change(t, id); ch.New[0].Kind != Paced || ch.New[0].Reason != pacing.ReasonCooldown || ch.Old[0].Kind != Answer {
			t.Errorf("comment %s: %+v", id, ch)
		}
	}
	if ch := res.change(t, "4"); ch.Old[0].Kind != Paced || ch.New[0].Kind != Answer {
		t.Errorf("comment 4: %+v", ch)
	}
	if got := res.rule(t, "thanks"); got != (RuleCount{Rule: "thanks", Old: 4, New: 4, Changed: 3}) {
		t.Errorf("counts %+v", got)
	}

	// Without pacing the cooldown is left out, and an answer held back by
	// pacing compares as the answer it would have been.
	res = run(t, path, cooldown, Options{Since: t0, NoPacing: true})
	if len(res.changes) != 0 {
		t.Errorf("--no-pacing: changed %v", res.changed())
	}

	// An active window is checked at the time the comment was seen: 10:04
	// in Shanghai is outside 12:00-18:00.
	window := strings.Replace(oldRules, "reply: 不客气～", "reply: 不客气～\n    active: \"12:00-18:00\"", 1)
	res = run(t, path, window, Options{Since: t0})
	if ch := res.change(t, "2"); ch.New[0].Kind != Paced || ch.New[0].Reason != pacing.ReasonInactive {
		t.Errorf("comment 2, inactive: %+v", ch)
	}
}

// approve holds answers, flag hands comments to a person; what a person
// decided since does not count as a change of the rules.
func TestActions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := history(t, []seen{
		{at: time.Minute, id: "1", uid: "u1", text: "多少钱", claims: []store.Claim{sent("price", "亲，价格在橱窗里哦")}},
		{at: 2 * time.Minute, id: "2", uid: "u2", text: "多少钱", claims: []store.Claim{claim("price", model.StatusHeld, "", "亲，价格在橱窗里哦")}},
		{at: 3 * time.Minute, id: "3", uid: "u3", text: "多少钱", claims: []store.Claim{claim("price", model.StatusHeld, "", "亲，价格在橱窗里哦")}},
		{at: 4 * time.Minute, id: "4", uid: "u4", text: "加微信", claims: []store.Claim{claim("spam", model.StatusSkipped, model.ReasonNoReplyRule, "")}},
		{at: 5 * time.Minute, id: "5", uid: "u5", text: "多少钱", claims: []store.Claim{claim("price", model.StatusSkipped, "daily_cap", "亲，价格在橱窗里哦")}},
	})
	// A person approved comment 3's answer with their own text.
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.History(ctx, store.Filter{Status: model.StatusHeld})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.CommentID == "3" {
			if _, _, err := st.Decide(ctx, r.ID, store.Decision{Action: store.DecideApprove, Text: "私信你了 ✅", By: "lin"}, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	testutil.Close(t, st)

	newRules := `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
    action: flag
  - name: price
    when: 'text contains "多少钱"'
    reply: ['{{ user.nickname }} 你好，价格请看橱窗', '亲，价格在橱窗里哦']
    approve: true
`
	res := run(t, path, newRules, Options{})
	// 1 was answered, would be held; 2 was held, would be; 3 was held and
	// approved as edited; 4 skipped, would be flagged; 5 capped (not
	// replayed), would be held with the same text.
	if want := []string{"1", "4"}; !slices.Equal(res.changed(), want) {
		t.Fatalf("changed %v, want %v", res.changed(), want)
	}
	if ch := res.change(t, "1"); ch.New[0].Kind != Held || !ch.New[0].Approve {
		t.Errorf("comment 1: %+v", ch)
	}
	if ch := res.change(t, "4"); ch.Old[0].Kind != Skip || ch.New[0].Kind != Flag {
		t.Errorf("comment 4: %+v", ch)
	}
	// The old rules change 2 and 3: held answers become answers.
	res = run(t, path, oldRules, Options{})
	if want := []string{"2", "3"}; !slices.Equal(res.changed(), want) {
		t.Errorf("old rules: changed %v, want %v", res.changed(), want)
	}
	if ch := res.change(t, "3"); ch.Old[0].Kind != Held || !ch.Old[0].Edited || ch.Old[0].ReplyText != "私信你了 ✅" {
		t.Errorf("comment 3: %+v", ch)
	}
}

// Labels, the time of evaluation and rule errors.
func TestEnvironment(t *testing.T) {
	t.Parallel()
	path := history(t, []seen{
		{at: time.Minute, id: "1", uid: "u1", text: "有活动吗"},
		{at: 2 * time.Minute, id: "2", uid: "u2", text: "有活动吗", thread: "7251524159191958400"},
		{at: 12 * time.Hour, id: "3", uid: "u3", text: "晚上好 🌙", thread: "7251524159191958400"},
		{at: 14 * time.Hour, id: "4", uid: "u4", text: "#abc", thread: "7251524159191958400"},
	})
	src := `rules:
  - name: spring
    when: 'labels.campaign == "spring"'
    reply: '春季活动 🌸 {{ thread }}'
  - name: evening
    when: 'hour(now) >= 22 && age < duration("2m")'
    reply: 晚上好
  - name: broken
    when: 'text startsWith "#" && int(text[1:]) > 3'
    reply: never
`
	res := run(t, path, src, Options{})
	if want := []string{"1", "3"}; !slices.Equal(res.changed(), want) {
		t.Fatalf("changed %v, want %v", res.changed(), want)
	}
	if ch := res.change(t, "1"); ch.New[0].Rule != "spring" || ch.New[0].Replies[0] != "春季活动 🌸 "+thread {
		t.Errorf("comment 1: %+v", ch)
	}
	// Seen at 22:00 in Shanghai, written a minute before.
	if ch := res.change(t, "3"); ch.New[0].Rule != "evening" {
		t.Errorf("comment 3: %+v", ch)
	}
	if got := res.rule(t, "broken"); got.Errors != 1 || got.New != 0 {
		t.Errorf("broken: %+v", got)
	}
}
