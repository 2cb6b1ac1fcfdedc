package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
)

// SignatureHeader carries a webhook message's signature when the channel
// has a secret: "sha256=" and the hex HMAC-SHA256 of the body keyed by the
// secret.
const SignatureHeader = "X-Autoreplyd-Signature"

// EventHeader names what a webhook message is about: an event's kind, or
// "digest".
const EventHeader = "X-Autoreplyd-Event"

// KindDigest is the event field of a webhook digest.
const KindDigest = "digest"

// WebhookEvent is one event in a webhook message: the body of a message
// about one event, and each element of a digest's events. The stranger's
// words (comment_text, user, reply_text) are bounded to 300 characters and
// hold no control or direction characters, but are otherwise as written;
// text is the message a person would read, disarmed as the robots' are.
type WebhookEvent struct {
	Event string `json:"event"` // flagged, held, answered, skipped, test
	// ID is the claim id (`autoreplyd approve ID`). With Event, it is what
	// a receiver deduplicates on: delivery is at least once.
	ID          int64    `json:"id"`
	Status      string   `json:"status"`
	Platform    string   `json:"platform"`
	ThreadID    string   `json:"thread_id"`
	CommentID   string   `json:"comment_id"`
	CommentText string   `json:"comment_text"`
	User        string   `json:"user"`
	UserUID     string   `json:"user_uid"`
	Rule        string   `json:"rule"`
	ReplyText   string   `json:"reply_text"`
	CreatedAt   string   `json:"created_at"`         // RFC 3339, UTC
	Commands    []string `json:"commands,omitempty"` // the commands that act on it
	Text        string   `json:"text"`
}

// WebhookDigest is the body of a webhook message about several events (the
// channel's rate was reached): event is "digest", count the number of
// events, text the digest a person would read, events each one in full.
type WebhookDigest struct {
	Event  string         `json:"event"`
	Count  int            `json:"count"`
	Text   string         `json:"text"`
	Events []WebhookEvent `json:"events"`
}

// webhook POSTs a JSON object to any URL, signed when it has a secret; a
// 2xx answer accepts it.
type webhook struct{ *client }

func (w *webhook) Send(ctx context.Context, events []Event) error {
	_, err := w.deliver(ctx, events)
	return err
}

// webhookEvent is e as a webhook message carries it.
func (w *webhook) webhookEvent(e Event) WebhookEvent {
	we := WebhookEvent{
		Event:       clean(e.Kind, maxIDRunes),
		ID:          e.ID,
		Status:      clean(e.Status, maxIDRunes),
		Platform:    clean(e.Platform, maxIDRunes),
		ThreadID:    clean(e.ThreadID, maxIDRunes),
		CommentID:   clean(e.CommentID, maxIDRunes),
		CommentText: clean(e.CommentText, maxCommentRunes),
		User:        clean(e.User, maxNameRunes),
		UserUID:     clean(e.UserUID, maxIDRunes),
		Rule:        clean(e.Rule, maxIDRunes),
		ReplyText:   clean(e.ReplyText, maxReplyRunes),
		Commands:    e.Commands(),
		Text:        w.render.single(e),
	}
	if !e.CreatedAt.IsZero() {
		we.CreatedAt = e.CreatedAt.UTC().Format(time.RFC3339)
	}
	return we
}

func (w *webhook) deliver(ctx context.Context, events []Event) (Answer, error) {
	var v any
	kind := KindDigest
	if len(events) == 1 {
		v = w.webhookEvent(events[0])
		kind = clean(events[0].Kind, maxIDRunes)
	} else {
		d := WebhookDigest{Event: KindDigest, Count: len(events), Text: w.render.text(events)}
		for _, e := range events {
			d.Events = append(d.Events, w.webhookEvent(e))
		}
		v = d
	}
	body, err := httpx.JSON(v)
	if err != nil {
		return Answer{}, w.errorf(Refused, "cannot encode the message: %v", err)
	}
	h := http.Header{EventHeader: {kind}}
	if w.secret != "" {
		h.Set(SignatureHeader, WebhookSignature(w.secret, body))
	}
	a, err := w.post(ctx, w.url, body, h)
	if err != nil {
		return Answer{}, err
	}
	defer a.Release()
	ans := Answer{Status: a.Status, Msg: w.hc.Snippet(a.Body, maxPlatformText)}
	if a.Status/100 != 2 {
		return ans, w.statusError(a.Status, a.Body)
	}
	return ans, nil
}

// WebhookSignature is the SignatureHeader value of body: "sha256=" and the
// hex HMAC-SHA256 of body keyed by secret. A receiver computes the same
// over the raw body and compares in constant time (hmac.Equal).
func WebhookSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
