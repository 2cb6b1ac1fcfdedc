package poller_test

// Rule pacing (cooldown, limit, active) and reply variants, through the real
// store, rules, source and responder, on the injected clock.

import (
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/store"
)

// Users of the pacing tests.
const (
	uMing = "20000000000000001"
	uHong = "20000000000000002"
	uGang = "20000000000000003"
)

const cooldownUserRules = `rules:
  - name: price
    when: 'text matches "多少钱|价格"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗'
    cooldown: {user: 24h}
  - name: fallback
    when: 'true'
    reply: '收到，{{ user.nickname }}'
`

// wantSkipped asserts a comment's single claim is skipped with reason and
// still carries the text that would have been sent.
func wantSkipped(t *testing.T, h *harness, cid, reason, text string) {
	t.Helper()
	r := h.row(cid)
	wantStatus(t, r, model.StatusSkipped, reason)
	if r.ReplyText != text {
		t.Fatalf("skipped claim of %s: reply text %q, want %q", cid, r.ReplyText, text)
	}
}

func TestPacingCooldownUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: cooldownUserRules})
	p := h.newPoller(nil)
	h.initThreads(p)
	start := h.clk.Now()

	first := h.add(threadA, uMing, "小明", "这个多少钱？")
	if st := h.cycle(p); st.Sent != 1 || st.Skipped != 0 {
		t.Fatalf("first: %+v", st)
	}
	wantStatus(t, h.row(first), model.StatusSent, "")

	// An hour later the same person asks again: held back, and the held-back
	// rule ends evaluation (fallback does not answer instead). Another
	// person is not affected.
	h.clk.Advance(time.Hour)
	again := h.add(threadA, uMing, "小明", "价格到底是多少")
	other := h.add(threadA, uHong, "小红", "多少钱")
	st := h.cycle(p)
	if st.Sent != 1 || st.Skipped != 1 || st.Claimed != 2 {
		t.Fatalf("second: %+v", st)
	}
	wantSkipped(t, h, again, pacing.ReasonCooldown, "小明 你好，价格请看橱窗")
	wantStatus(t, h.row(other), model.StatusSent, "")
	var skippedEv int
	for _, ev := range h.takeEvents() {
		if ev.Status == model.StatusSkipped && ev.Reason == pacing.ReasonCooldown && ev.Rule == "price" {
			skippedEv++
		}
	}
	if skippedEv != 1 {
		t.Fatalf("want 1 cooldown event, got %d", skippedEv)
	}
	h.wantPosts(2)

	// A restart (a new Poller on the same store) still knows.
	h.clk.Advance(20 * time.Hour)
	p2 := h.newPoller(nil)
	later := h.add(threadA, uMing, "小明", "多少钱呀")
	if st := h.cycle(p2); st.Sent != 0 || st.Skipped != 1 {
		t.Fatalf("after restart: %+v", st)
	}
	wantSkipped(t, h, later, pacing.ReasonCooldown, "小明 你好，价格请看橱窗")

	// 24h after the answer (the skipped claims are not answers), answered.
	h.clk.Set(start.Add(24*time.Hour + time.Minute))
	next := h.add(threadA, uMing, "小明", "今天多少钱")
	if st := h.cycle(p2); st.Sent != 1 || st.Skipped != 0 {
		t.Fatalf("after the cooldown: %+v", st)
	}
	wantStatus(t, h.row(next), model.StatusSent, "")
	// The held-back comments were never answered by surprise.
	for range 2 {
		h.clk.Advance(time.Hour)
		if st := h.cycle(p2); st.Claimed != 0 {
			t.Fatalf("later cycle claimed: %+v", st)
		}
	}
	wantSkipped(t, h, again, pacing.ReasonCooldown, "小明 你好，价格请看橱窗")
	h.wantPosts(3)
}

// Two comments by one person in the same cycle: the first's claim is in the
// store when the second is checked.
func TestPacingCooldownSameCycle(t *testing.T) {
	t.Parallel()
	for _, dry := range []bool{false, true} {
		name := "real"
		if dry {
			name = "dry_run"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, setup{rules: cooldownUserRules})
			p := h.newPoller(func(o *poller.Options) { o.DryRun = dry })
			h.initThreads(p)
			c1 := h.add(threadA, uMing, "小明", "多少钱")
			c2 := h.add(threadA, uMing, "小明", "多少钱？？")
			c3 := h.add(threadA, uHong, "小红", "价格")
			st := h.cycle(p)
			if st.Claimed != 3 || st.Skipped != 1 {
				t.Fatalf("stats: %+v", st)
			}
			answered := model.StatusSent
			if dry {
				answered = model.StatusDryRun
				h.wantRequests(0)
			} else {
				h.wantPosts(2)
			}
			wantStatus(t, h.row(c1), answered, "")
			wantSkipped(t, h, c2, pacing.ReasonCooldown, "小明 你好，价格请看橱窗")
			wantStatus(t, h.row(c3), answered, "")
		})
	}
}

// A dry run paces by its dry_run claims; a real run does not count them.
func TestPacingDryRunCountsDryRunClaims(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: cooldownUserRules})
	dry := h.newPoller(func(o *poller.Options) { o.DryRun = true })
	h.initThreads(dry)
	c1 := h.add(threadA, uMing, "小明", "多少钱")
	if st := h.cycle(dry); st.DryRun != 1 {
		t.Fatalf("dry: %+v", st)
	}
	h.clk.Advance(time.Hour)
	c2 := h.add(threadA, uMing, "小明", "价格呢")
	if st := h.cycle(dry); st.DryRun != 0 || st.Skipped != 1 {
		t.Fatalf("dry again: %+v", st)
	}
	wantStatus(t, h.row(c1), model.StatusDryRun, "")
	wantSkipped(t, h, c2, pacing.ReasonCooldown, "小明 你好，价格请看橱窗")
	h.wantRequests(0)

	live := h.newPoller(nil)
	h.clk.Advance(time.Hour)
	c3 := h.add(threadA, uMing, "小明", "到底多少钱")
	if st := h.cycle(live); st.Sent != 1 {
		t.Fatalf("real run after a dry run: %+v", st)
	}
	wantStatus(t, h.row(c3), model.StatusSent, "")
}

func TestPacingCooldownThread(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{
		rules: `rules:
  - name: price
    when: 'text matches "多少钱"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗'
    cooldown: {thread: 10m}
`,
		threads: []model.Thread{{ID: threadA, PostID: aweme}, {ID: threadB, PostID: aweme}},
	})
	p := h.newPoller(nil)
	h.initThreads(p)
	a1 := h.add(threadA, uMing, "小明", "多少钱")
	a2 := h.add(threadA, uHong, "小红", "多少钱")
	b1 := h.add(threadB, uGang, "小刚", "多少钱")
	if st := h.cycle(p); st.Sent != 2 || st.Skipped != 1 {
		t.Fatalf("stats: %+v", st)
	}
	wantStatus(t, h.row(a1), model.StatusSent, "")
	wantSkipped(t, h, a2, pacing.ReasonCooldown, "小红 你好，价格请看橱窗")
	wantStatus(t, h.row(b1), model.StatusSent, "")

	h.clk.Advance(9 * time.Minute)
	a3 := h.add(threadA, uGang, "小刚", "多少钱")
	h.cycle(p)
	wantSkipped(t, h, a3, pacing.ReasonCooldown, "小刚 你好，价格请看橱窗")

	h.clk.Advance(2 * time.Minute)
	a4 := h.add(threadA, uGang, "小刚", "现在多少钱")
	if st := h.cycle(p); st.Sent != 1 {
		t.Fatalf("after 10m: %+v", st)
	}
	wantStatus(t, h.row(a4), model.StatusSent, "")
	h.wantPosts(3)
}

// limit: {hour, day} are rolling windows over the rule's answers.
func TestPacingLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: `rules:
  - name: price
    when: 'text matches "多少钱"'
    reply: '{{ user.nickname }} 你好'
    limit: {hour: 2, day: 3}
`})
	p := h.newPoller(nil)
	h.initThreads(p)
	start := h.clk.Now()
	c1 := h.add(threadA, "20000000000000011", "甲", "多少钱")
	c2 := h.add(threadA, "20000000000000012", "乙", "多少钱")
	c3 := h.add(threadA, "20000000000000013", "丙", "多少钱")
	if st := h.cycle(p); st.Sent != 2 || st.Skipped != 1 {
		t.Fatalf("first hour: %+v", st)
	}
	wantStatus(t, h.row(c1), model.StatusSent, "")
	wantStatus(t, h.row(c2), model.StatusSent, "")
	wantSkipped(t, h, c3, pacing.ReasonLimit, "丙 你好")

	// Rolling: half an hour later the hour still holds 2 answers.
	h.clk.Advance(30 * time.Minute)
	c4 := h.add(threadA, "20000000000000014", "丁", "多少钱")
	h.cycle(p)
	wantSkipped(t, h, c4, pacing.ReasonLimit, "丁 你好")

	// 61 minutes after the first two: one more (the day's third).
	h.clk.Set(start.Add(61 * time.Minute))
	c5 := h.add(threadA, "20000000000000015", "戊", "多少钱")
	c6 := h.add(threadA, "20000000000000016", "己", "多少钱")
	if st := h.cycle(p); st.Sent != 1 || st.Skipped != 1 {
		t.Fatalf("second hour: %+v", st)
	}
	wantStatus(t, h.row(c5), model.StatusSent, "")
	wantSkipped(t, h, c6, pacing.ReasonLimit, "己 你好")

	// The day limit is a rolling 24 hours too, and survives a restart.
	p2 := h.newPoller(nil)
	h.clk.Set(start.Add(23 * time.Hour))
	c7 := h.add(threadA, "20000000000000017", "庚", "多少钱")
	h.cycle(p2)
	wantSkipped(t, h, c7, pacing.ReasonLimit, "庚 你好")
	h.clk.Set(start.Add(24*time.Hour + time.Minute)) // the first two left the window
	c8 := h.add(threadA, "20000000000000018", "辛", "多少钱")
	c9 := h.add(threadA, "20000000000000019", "壬", "多少钱")
	c10 := h.add(threadA, "20000000000000020", "癸", "多少钱")
	if st := h.cycle(p2); st.Sent != 2 || st.Skipped != 1 {
		t.Fatalf("next day: %+v", st)
	}
	wantStatus(t, h.row(c8), model.StatusSent, "")
	wantStatus(t, h.row(c9), model.StatusSent, "")
	wantSkipped(t, h, c10, pacing.ReasonLimit, "癸 你好")
	h.wantPosts(5)
}

// Outside its active window a rule holds back, and the comment is not
// answered when the window opens.
func TestPacingActive(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: `rules:
  - name: price
    when: 'text matches "多少钱"'
    reply: '{{ user.nickname }} 你好'
    active: ["Mon-Fri 09:00-18:00", "Sat,Sun 10:00-16:00"]
`})
	p := h.newPoller(nil)
	h.initThreads(p) // Monday 10:00

	h.clk.Set(time.Date(2025, 3, 10, 20, 0, 0, 0, shanghai)) // Monday evening
	evening := h.add(threadA, uMing, "小明", "多少钱")
	if st := h.cycle(p); st.Sent != 0 || st.Skipped != 1 {
		t.Fatalf("evening: %+v", st)
	}
	wantSkipped(t, h, evening, pacing.ReasonInactive, "小明 你好")

	h.clk.Set(time.Date(2025, 3, 11, 9, 30, 0, 0, shanghai)) // Tuesday morning
	morning := h.add(threadA, uHong, "小红", "多少钱")
	if st := h.cycle(p); st.Sent != 1 || st.Claimed != 1 {
		t.Fatalf("morning: %+v", st)
	}
	wantStatus(t, h.row(morning), model.StatusSent, "")
	wantSkipped(t, h, evening, pacing.ReasonInactive, "小明 你好") // not answered by surprise
	h.wantPosts(1)

	h.clk.Set(time.Date(2025, 3, 15, 9, 30, 0, 0, shanghai)) // Saturday, before 10:00
	sat := h.add(threadA, uGang, "小刚", "多少钱")
	h.cycle(p)
	wantSkipped(t, h, sat, pacing.ReasonInactive, "小刚 你好")
	h.clk.Set(time.Date(2025, 3, 15, 10, 30, 0, 0, shanghai))
	sat2 := h.add(threadA, uGang, "小刚", "多少钱呢")
	h.cycle(p)
	wantStatus(t, h.row(sat2), model.StatusSent, "")
	h.wantPosts(2)
}

// A held-back rule with continue: true lets the next rule answer; one
// without ends evaluation, as any matching rule does.
func TestPacingContinue(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: `rules:
  - name: thanks
    when: 'text contains "谢谢"'
    reply: '谢谢{{ user.nickname }}的支持'
    continue: true
    cooldown: {user: 24h}
  - name: love
    when: 'text contains "喜欢"'
    reply: '{{ user.nickname }}，我们也喜欢你'
    cooldown: {user: 24h}
  - name: fallback
    when: 'true'
    reply: '收到'
`})
	p := h.newPoller(nil)
	h.initThreads(p)
	c1 := h.add(threadA, uMing, "小明", "谢谢，很喜欢")
	if st := h.cycle(p); st.Sent != 2 {
		t.Fatalf("first: %+v", st)
	}
	h.clk.Advance(time.Hour)
	// thanks is held back but continues; love is held back and ends.
	c2 := h.add(threadA, uMing, "小明", "谢谢！还是很喜欢")
	// thanks held back, continues; love does not match; fallback answers.
	c3 := h.add(threadA, uMing, "小明", "谢谢你们")
	st := h.cycle(p)
	if st.Sent != 1 || st.Skipped != 3 {
		t.Fatalf("second: %+v", st)
	}
	byRule := func(cid string) map[string]string {
		m := map[string]string{}
		for _, r := range h.rowsOf(cid) {
			m[r.Rule] = r.Status + "/" + r.Reason
		}
		return m
	}
	if got := byRule(c1); got["thanks"] != "sent/" || got["love"] != "sent/" || len(got) != 2 {
		t.Fatalf("c1: %v", got)
	}
	if got := byRule(c2); got["thanks"] != "skipped/cooldown" || got["love"] != "skipped/cooldown" || len(got) != 2 {
		t.Fatalf("c2: %v", got)
	}
	if got := byRule(c3); got["thanks"] != "skipped/cooldown" || got["fallback"] != "sent/" || len(got) != 2 {
		t.Fatalf("c3: %v", got)
	}
	h.wantPosts(3)
}

const variantRules = `rules:
  - name: price
    when: 'text matches "多少钱"'
    reply: ['价格请看橱窗', '您好，价格在橱窗里', '橱窗里有价格哦']
`

// rowsInOrder returns the claims of rule, oldest first.
func rowsInOrder(h *harness, rule string) []store.HistoryRow {
	var out []store.HistoryRow
	for _, r := range h.history() {
		if r.Rule == rule {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Reply variants rotate: three answers use three texts, the fourth the one
// used longest ago; the choice survives a restart.
func TestVariantRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: variantRules})
	avoid := func(n int) func(*poller.Options) {
		return func(o *poller.Options) {
			o.Pacing = map[string]poller.Pacing{responderName: {AvoidRepeat: n}}
		}
	}
	p := h.newPoller(avoid(10))
	h.initThreads(p)
	h.add(threadA, uMing, "小明", "多少钱")
	h.add(threadA, uHong, "小红", "多少钱")
	h.cycle(p)
	h.clk.Advance(time.Minute)
	p = h.newPoller(avoid(10)) // a restart
	h.add(threadA, uGang, "小刚", "多少钱")
	h.cycle(p)
	posts := h.wantPosts(3)
	texts := []string{posts[0].Text, posts[1].Text, posts[2].Text}
	distinct, want := slices.Clone(texts), []string{"价格请看橱窗", "您好，价格在橱窗里", "橱窗里有价格哦"}
	slices.Sort(distinct)
	slices.Sort(want)
	if !slices.Equal(distinct, want) {
		t.Fatalf("3 answers, texts %q: want the 3 variants", texts)
	}
	// All three are recent: the one used longest ago, then the next.
	h.clk.Advance(time.Minute)
	h.add(threadA, "20000000000000004", "小丽", "多少钱")
	h.cycle(p)
	h.clk.Advance(time.Minute)
	h.add(threadA, "20000000000000005", "小华", "多少钱")
	h.cycle(p)
	posts = h.wantPosts(5)
	if posts[3].Text != texts[0] || posts[4].Text != texts[1] {
		t.Fatalf("4th and 5th answers %q, %q: want %q, %q", posts[3].Text, posts[4].Text, texts[0], texts[1])
	}
	// The history holds the same texts.
	rows := rowsInOrder(h, "price")
	for i, r := range rows {
		if r.ReplyText != posts[i].Text {
			t.Fatalf("claim %d: %q, post %q", i, r.ReplyText, posts[i].Text)
		}
	}
}

// With avoid_repeat a dry run never repeats a text back to back (its
// dry_run claims count); with 0 the choice is random and repeats happen.
func TestVariantAvoidRepeatDryRun(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		avoid      int
		wantRepeat bool
	}{{10, false}, {2, false}, {0, true}} {
		h := newHarness(t, setup{rules: variantRules})
		p := h.newPoller(func(o *poller.Options) {
			o.DryRun = true
			o.Pacing = map[string]poller.Pacing{responderName: {AvoidRepeat: tt.avoid}}
		})
		h.initThreads(p)
		for i := range 40 {
			h.add(threadA, fmt.Sprintf("21%015d", i), "路人", "多少钱")
		}
		if st := h.cycle(p); st.DryRun != 40 {
			t.Fatalf("avoid %d: %+v", tt.avoid, st)
		}
		rows := rowsInOrder(h, "price")
		repeats := 0
		for i := 1; i < len(rows); i++ {
			if rows[i].ReplyText == rows[i-1].ReplyText {
				repeats++
			}
			if tt.avoid >= 2 && i >= 2 && (rows[i].ReplyText == rows[i-2].ReplyText) {
				t.Fatalf("avoid %d: answer %d repeats answer %d: %q", tt.avoid, i, i-2, rows[i].ReplyText)
			}
		}
		// 39 random pairs all differ with probability (2/3)^39 < 2e-7.
		if (repeats > 0) != tt.wantRepeat {
			t.Fatalf("avoid %d: %d back-to-back repeats", tt.avoid, repeats)
		}
		h.wantRequests(0)
	}
}

// A store error while checking pacing leaves the comment unhandled: nothing
// is sent, nothing recorded, and the next cycle handles it.
func TestPacingStoreErrorNotHandled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: cooldownUserRules})
	p := h.newPoller(nil)
	h.initThreads(p)
	db, err := sql.Open("sqlite", "file:"+h.dbf+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, db)
	// The per-user count reads comments.user_uid: make it fail.
	if _, err := db.Exec(`ALTER TABLE comments RENAME COLUMN user_uid TO user_uid_gone`); err != nil {
		t.Fatal(err)
	}
	cid := h.add(threadA, uMing, "小明", "多少钱")
	if st := h.cycle(p); st.Errors == 0 || st.Claimed != 0 {
		t.Fatalf("with a failing store: %+v", st)
	}
	h.wantRequests(0)
	if h.known(cid)[cid] {
		t.Fatal("the comment was recorded although its pacing could not be checked")
	}
	if _, err := db.Exec(`ALTER TABLE comments RENAME COLUMN user_uid_gone TO user_uid`); err != nil {
		t.Fatal(err)
	}
	if st := h.cycle(p); st.Sent != 1 {
		t.Fatalf("next cycle: %+v", st)
	}
	wantStatus(t, h.row(cid), model.StatusSent, "")
}
