package store

import (
	"context"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

func TestOwnTexts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir()+"/t.db")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s)
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	claim := func(id, thread, rule, status, text string) {
		t.Helper()
		c := model.Comment{Platform: "douyin", ID: id, ThreadID: thread, Text: "q"}
		cl, err := s.Record(ctx, c, model.DispositionEvaluated, []Claim{{Rule: rule, Responder: "kitkot", Status: model.StatusPending, ReplyText: text}}, now)
		if err != nil || len(cl) != 1 {
			t.Fatal(cl, err)
		}
		if status != model.StatusPending {
			st := Settlement{Status: status}
			if status == model.StatusRetrying {
				st.NextAttempt = now.Add(time.Hour)
			}
			if err := s.Settle(ctx, cl[0].ID, st, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	claim("1", "T", "r", model.StatusUnknown, "谢谢小虎！")
	claim("2", "T", "r", model.StatusSent, "亲，价格在橱窗[比心]")
	claim("3", "T", "r", model.StatusPending, "pending text")
	claim("4", "T", "r", model.StatusFailed, "failed text")
	claim("5", "T", "r", model.StatusRetrying, "retrying text")
	claim("6", "OTHER", "r", model.StatusSent, "other thread")
	got, err := s.OwnTexts(ctx, "douyin", "T", []string{"谢谢小虎！", "亲，价格在橱窗[比心]", "pending text", "failed text", "retrying text", "other thread", "nobody", ""})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"谢谢小虎！": true, "亲，价格在橱窗[比心]": true, "pending text": true}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/a/b/autoreplyd.db"
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Close(t, s)
}
