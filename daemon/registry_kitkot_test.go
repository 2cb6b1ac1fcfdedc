package daemon

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// responders.kitkot.max_length reaches the responder: a longer reply fails
// too_long and nothing reaches kitkot.
func TestBuildKitkotMaxLength(t *testing.T) {
	t.Parallel()
	sim := simulator.NewKitkot("kk-key", "kk-session")
	srv := httptest.NewServer(sim)
	defer srv.Close()
	sec := kitkot.NewResponderSection()
	sec.BaseURL, sec.APIKey, sec.SessionKey, sec.Timeout, sec.MaxLength = srv.URL+"/api", "kk-key", "kk-session", 5*time.Second, 5
	r, err := responderOf(t, "kitkot", "kitkot", sec).Spec.New(sec, &platform.Env{})
	if err != nil {
		t.Fatalf("kitkot responder: %v", err)
	}
	reply := func(text string) model.Reply {
		return model.Reply{Comment: model.Comment{ID: "7251530000000000002", PostID: "7251517975340027197", RootID: "7251524159191958327"}, Text: text}
	}
	_, err = r.Send(context.Background(), reply("一二三四五六"))
	var se *model.SendError
	if !errors.As(err, &se) || se.Reason != "too_long" {
		t.Fatalf("6 characters with max_length 5: %v", err)
	}
	if n := sim.Requests(); n != 0 {
		t.Fatalf("%d requests reached kitkot", n)
	}
	if _, err := r.Send(context.Background(), reply("一二三四五")); err != nil {
		t.Fatalf("5 characters: %v", err)
	}
}
