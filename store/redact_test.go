package store

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/model"
)

// TestRedactorScrubsEveryFreeTextColumn: with a redactor, no configured
// secret reaches the database, raw or URL-escaped, whichever platform
// echoed it: kitkot echoing JustOneAPI's token in an error, JustOneAPI
// echoing kitkot's key in a pause reason, a comment quoting a leaked one.
func TestRedactorScrubsEveryFreeTextColumn(t *testing.T) {
	t.Parallel()
	const token, key = "jo-token/with+escapes", "kk-api-key-1234"
	s, _ := openTest(t)
	s.SetRedactor(redact.New(token, key))
	ctx := t.Context()

	c := comment("1")
	c.Text = "leaked " + key + " here"
	c.User.Nickname = "nick " + token
	won := mustRecord(t, s, c, t0, Claim{Rule: "a", Responder: "kitkot", Status: model.StatusPending, ReplyText: "hi " + key},
		Claim{Rule: "b", Responder: "kitkot", Status: model.StatusSkipped, Reason: "cooldown " + key})
	if err := s.Settle(ctx, won[0].ID, Settlement{Status: model.StatusFailed, Reason: "platform_400",
		Error: "code 400: bad token=" + url.QueryEscape(token) + " raw " + token}, t0); err != nil {
		t.Fatal(err)
	}
	c2 := comment("2")
	won = mustRecord(t, s, c2, t0, pending("a"))
	if err := s.Hold(ctx, won[0].ID, "responder_paused", "paused: "+key, t0.Add(time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPause(ctx, "source:douyin", t0.Add(time.Hour), "code 601: echo api_key="+key, t0); err != nil {
		t.Fatal(err)
	}

	// Read every text column back with plain SQL.
	db := s.db
	var all []string
	for _, q := range []string{
		`SELECT text || '|' || user_nickname || '|' || user_unique_id FROM comments`,
		`SELECT reason || '|' || error || '|' || reply_text FROM replies`,
		`SELECT reason FROM pauses`,
	} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			all = append(all, v)
		}
		rows.Close()
	}
	dump := strings.Join(all, "\n")
	for _, secret := range []string{token, url.QueryEscape(token), key} {
		if strings.Contains(dump, secret) {
			t.Errorf("the database holds %q:\n%s", secret, dump)
		}
	}
	for _, want := range []string{"leaked [redacted] here", "nick [redacted]", "bad token=[redacted] raw [redacted]", "paused: [redacted]", "echo api_key=[redacted]", "cooldown [redacted]"} {
		if !strings.Contains(dump, want) {
			t.Errorf("the database lacks %q:\n%s", want, dump)
		}
	}
}
