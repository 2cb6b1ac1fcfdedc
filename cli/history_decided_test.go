package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// decidedDB holds, at fixed times, what people decided: an answer approved
// with an edit and sent, one approved and still due, one rejected with a
// reason, one expired, a flagged comment handled and one still flagged.
func decidedDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "decided.db")
	rows := []seedRow{
		{at: day.Add(time.Hour), platform: "douyin", id: "7300000000000000401", thread: threadA, nick: "史密斯夫妇💑",
			text: "多少钱？😀", rule: "price", status: model.StatusHeld, reply: "史密斯夫妇💑 你好，价格请看橱窗🛒"},
		{at: day.Add(time.Hour + time.Minute), platform: "douyin", id: "7300000000000000402", thread: threadA, nick: "小王",
			text: "价格", rule: "price", status: model.StatusHeld, reply: "小王 你好"},
		{at: day.Add(time.Hour + 2*time.Minute), platform: "douyin", id: "7300000000000000403", thread: threadB, nick: "carol",
			text: "how much?", rule: "price", status: model.StatusHeld, reply: "carol, see the shop"},
		{at: day.Add(time.Hour + 3*time.Minute), platform: "douyin", id: "7300000000000000404", thread: threadB, nick: "dave",
			text: "price?", rule: "price", status: model.StatusHeld, reply: "dave, see the shop"},
		{at: day.Add(time.Hour + 4*time.Minute), platform: "douyin", id: "7300000000000000405", thread: threadA, nick: "愤怒的顾客😡",
			text: "我要投诉！退款😡", rule: "complaint", status: model.StatusFlagged},
		{at: day.Add(time.Hour + 5*time.Minute), platform: "douyin", id: "7300000000000000406", thread: threadA, nick: "老客户",
			text: "差评", rule: "complaint", status: model.StatusFlagged},
	}
	seedHistory(t, db, rows)
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, st)
	at := day.Add(2 * time.Hour)
	decide := func(id int64, d store.Decision) {
		t.Helper()
		d.MaxAge = 24 * time.Hour
		if _, _, err := st.Decide(ctx, id, d, at); err != nil && d.By != "" {
			t.Fatal(err)
		}
	}
	decide(1, store.Decision{Action: store.DecideApprove, Text: "史密斯夫妇💑 价格是 99 元 🛒", By: "lin"})
	if ok, err := st.BeginRetry(ctx, 1, at); !ok || err != nil {
		t.Fatalf("BeginRetry = %v, %v", ok, err)
	}
	if err := st.Settle(ctx, 1, store.Settlement{Status: model.StatusSent, PlatformReplyID: "7399999999999999401"}, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	decide(2, store.Decision{Action: store.DecideApprove, By: "客服小王"})
	decide(3, store.Decision{Action: store.DecideReject, By: "lin", Note: "价格已经变了"})
	if _, err := st.ExpireHeld(ctx, 30*time.Minute, at); err != nil { // claim 4, the only one still held
		t.Fatal(err)
	}
	decide(5, store.Decision{Action: store.DecideDone, By: "ops"})
	return db
}

// history shows who decided and when: compactly in the table's REASON,
// whole in json and csv.
func TestHistoryShowsDecisions(t *testing.T) {
	t.Parallel()
	db := decidedDB(t)
	table := historyOK(t, nil, "--database", db)
	golden(t, "history.decided.table.golden", table)
	for _, want := range []string{
		"sent      approved by lin 11-22 02:00",
		"retrying  approved by 客服小王 11-22 02:00",
		"rejected  by lin 11-22 02:00",
		"expired   approval_max_age",
		"handled   by ops 11-22 02:00",
		"flagged   -",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the table does not say %q:\n%s", want, table)
		}
	}
	byID := map[int]map[string]any{}
	for _, r := range jsonRows(t, historyOK(t, nil, "--database", db, "--format", "json")) {
		byID[int(r["id"].(float64))] = r
	}
	decided := day.Add(2 * time.Hour).Format(time.RFC3339)
	for id, want := range map[int][4]string{
		1: {"sent", "lin", decided, "edited"},
		2: {"retrying", "客服小王", decided, ""},
		3: {"rejected", "lin", decided, "价格已经变了"},
		4: {"expired", "", "", ""},
		5: {"handled", "ops", decided, ""},
		6: {"flagged", "", "", ""},
	} {
		r := byID[id]
		if got := [4]string{r["status"].(string), r["decided_by"].(string), r["decided_at"].(string), r["decision_note"].(string)}; got != want {
			t.Errorf("claim %d: status, decided_by, decided_at, decision_note = %q, want %q", id, got, want)
		}
	}
	if byID[1]["reply_text"] != "史密斯夫妇💑 价格是 99 元 🛒" {
		t.Errorf("the edited answer: %v", byID[1]["reply_text"])
	}
	// The new statuses filter.
	for _, st := range []string{"held", "flagged", "rejected", "expired", "handled"} {
		out := historyOK(t, nil, "--database", db, "--status", st, "--format", "json")
		for _, r := range jsonRows(t, out) {
			if r["status"] != st {
				t.Errorf("--status %s lists %v", st, r)
			}
		}
	}
	csvOut := historyOK(t, nil, "--database", db, "--format", "csv")
	if !strings.Contains(csvOut, ",rejected,") || !strings.Contains(csvOut, ",lin,"+decided+",价格已经变了,evaluated,{},,,,0,0\n") {
		t.Errorf("csv:\n%s", csvOut)
	}
}

func TestCSVField(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+86 138": "'+86 138", "-_-": "'-_-", "@所有人": "'@所有人", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "7300000000000000001": "7300000000000000001", "2026-11-22T01:00:00Z": "2026-11-22T01:00:00Z",
		"多少钱=?": "多少钱=?", " =1": " =1", "'=1": "'=1",
	} {
		if got := csvField(in); got != want {
			t.Errorf("csvField(%q) = %q, want %q", in, got, want)
		}
	}
}

// history carries each comment's disposition and its thread's labels, in
// JSON as an object and in CSV as a JSON text.
func TestHistoryLabelsAndDisposition(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "labels.db")
	seedHistory(t, db, seedRows[:2])
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetThreadLabels(t.Context(), []store.ThreadLabels{{Platform: "douyin", ThreadID: threadA,
		Labels: map[string]string{"campaign": "spring", "商品": "保温杯🍵"}}}); err != nil {
		t.Fatal(err)
	}
	testutil.Close(t, st)
	rows := jsonRows(t, historyOK(t, nil, "--database", db, "--format", "json"))
	if len(rows) != 2 {
		t.Fatalf("rows: %v", rows)
	}
	for _, r := range rows {
		labels, _ := r["labels"].(map[string]any)
		if r["disposition"] != "evaluated" || labels["campaign"] != "spring" || labels["商品"] != "保温杯🍵" {
			t.Errorf("row %v", r)
		}
	}
	csvOut := historyOK(t, nil, "--database", db, "--format", "csv")
	if !strings.Contains(csvOut, `,evaluated,"{""campaign"":""spring"",""商品"":""保温杯🍵""}"`) {
		t.Errorf("csv:\n%s", csvOut)
	}
}
