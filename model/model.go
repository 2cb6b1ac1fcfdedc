// Package model holds the domain types that every part of autoreplyd shares:
// a watched thread and its poll state, what a poll found, a comment fetched
// from a platform, a reply to post, and the typed errors with which a
// responder says whether a failed send may be tried again and a source says
// what to do after a failed poll.
//
// IDs are strings everywhere: platform ids exceed 2^53 and must never pass
// through float64 or int.
package model

import (
	"errors"
	"fmt"
	"time"
)

// Platform names, as used in config keys, history rows and rule environments.
const (
	PlatformDouyin = "douyin"
	PlatformTikTok = "tiktok"
	PlatformWeChat = "wechat"
	PlatformWeibo  = "weibo"
)

// User is the author of a comment.
type User struct {
	UID      string // platform user id (Douyin uid, WeChat openid, Weibo idstr)
	SecUID   string // Douyin/TikTok sec_uid; empty elsewhere
	UniqueID string // the handle users see (Douyin unique_id)
	Nickname string
	Region   string
	Verified bool
}

// Comment is one reply under a watched thread, as a source fetched it.
type Comment struct {
	Platform string // "douyin", ...
	ID       string // the platform's id of this comment (Douyin cid)
	// ThreadID is the id of the watched thread as configured (Douyin: the
	// top-level comment whose replies are polled).
	ThreadID string
	PostID   string // the video/article/weibo the thread lives under (Douyin aweme_id)
	// RootID is the top-level comment this reply belongs to (Douyin reply_id;
	// "0" when the comment is itself top-level).
	RootID string
	// ReplyToID is the reply this one answers (Douyin reply_to_reply_id; "0"
	// when it answers the root).
	ReplyToID   string
	ReplyToUser string // the nickname it answers, when the platform says
	Text        string
	CreatedAt   time.Time
	Likes       int64
	Level       int64
	AuthorLiked bool // the post's author liked it (Douyin is_author_digged)
	User        User
	// Labels are the operator's labels of the watched thread, from config.
	Labels map[string]string
	// AlreadyAnswered: the platform shows the comment already answered
	// (e.g. in the WeChat backend, where a comment takes one reply only):
	// record it, never answer it.
	AlreadyAnswered bool
}

// Reply is one answer to post through a responder.
type Reply struct {
	ClaimID int64   // the store's id of the claim this send settles
	Comment Comment // the comment answered
	Text    string  // the rendered reply text
}

// SendResult is what a responder reports after a successful send.
type SendResult struct {
	// PlatformReplyID is the platform's id of the reply we posted (kitkot:
	// the new comment's cid). It lets the loop guard recognise our own reply
	// when it shows up in the thread. May be empty when the platform does not
	// say.
	PlatformReplyID string
	// Reason is an optional note for history, such as "already_replied".
	Reason string
}

// FailureKind says what a failed send means for the claim.
type FailureKind int

const (
	// Permanent means the platform refused the reply (invalid parameters,
	// too long, not found...). Sending it again would fail the same way.
	Permanent FailureKind = iota
	// Retryable means the request provably did not take effect (connection
	// refused, nothing written, HTTP 429/502/503/504, "busy" codes).
	Retryable
	// Unknown means the request may have taken effect (timeout or dropped
	// connection after it was written). Never resent automatically.
	Unknown
)

func (k FailureKind) String() string {
	switch k {
	case Permanent:
		return "permanent"
	case Retryable:
		return "retryable"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("FailureKind(%d)", int(k))
}

// SendError is the error a responder returns when a send fails. Its message
// must never contain a secret (api keys travel in query strings: never wrap
// a *url.Error unredacted).
type SendError struct {
	Kind FailureKind
	Code string // the platform's code, e.g. "400"; "" for transport errors
	Msg  string // the platform's message, or a description of the transport failure
	// Reason is a short machine-friendly word for history ("http_503",
	// "timeout", "platform_400", "too_long"...).
	Reason string
	// ReplyOnly says the platform refused this one reply for something of
	// its own: its content (too long, identical or similar to an earlier
	// one, sensitive words, against the guidelines) or its target (the
	// comment or article deleted, not found, already answered). Such a
	// refusal says nothing about the account or the API: it fails this
	// reply only and never counts toward a responder's breaker
	// (breaker_failures), so commenters whose comments or nicknames get
	// replies refused cannot pause the responder for everyone.
	//
	// The zero value, false, means the failure is or may be about the
	// account or the API (credentials, session, permission, rate, quota,
	// risk control, a request shape every reply would have), and a
	// permanent one counts toward the breaker. It is the default because
	// it is the safe mistake for a refusal nobody classified: a refusal
	// wrongly counted at worst pauses the responder, holding answers (none
	// is lost, `autoreplyd resume` lifts it); one wrongly exempted lets the
	// daemon push on against an account the platform refuses, failing
	// every answer for good and adding to the account's risk score. A
	// responder sets ReplyOnly only for refusals it knows are about the
	// reply.
	ReplyOnly bool
	// PauseFor and PauseToNextDay say the platform asks us to stop sending
	// with this responder for a while (WeChat 45011 "too frequent": a few
	// minutes; 45009 daily quota: until the next local day). The poller
	// pauses the responder, persisted, and holds the claim retrying until
	// the pause ends.
	PauseFor       time.Duration
	PauseToNextDay bool
}

func (e *SendError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s failure: code %s: %s", e.Kind, e.Code, e.Msg)
	}
	return fmt.Sprintf("%s failure: %s", e.Kind, e.Msg)
}

// KindOf classifies err: the Kind of a *SendError in its chain, else Unknown
// (an unclassified error cannot prove the request did not take effect).
func KindOf(err error) FailureKind {
	var se *SendError
	if errors.As(err, &se) {
		return se.Kind
	}
	return Unknown
}

// History statuses of a handled reply.
const (
	StatusPending  = "pending"  // claimed, not settled
	StatusSent     = "sent"     // the platform accepted the reply
	StatusRetrying = "retrying" // a retryable failure; sent again on a later cycle
	StatusFailed   = "failed"   // a permanent failure, or retries exhausted
	StatusUnknown  = "unknown"  // the outcome is unknown; never resent automatically
	StatusDryRun   = "dry_run"  // --dry-run: what would have been sent
	StatusSkipped  = "skipped"  // matched but not answered; see reason
	StatusFlagged  = "flagged"  // handed to a person (action: flag); nothing sent
	StatusHeld     = "held"     // an answer waiting for a person's approval (approve: true)
	StatusRejected = "rejected" // a held answer a person rejected; never sent
	StatusExpired  = "expired"  // a held answer not approved within approval.max_age; never sent
	StatusHandled  = "handled"  // a flagged comment a person dealt with (autoreplyd done)
	StatusDrafting = "drafting" // waiting for a language model's draft (a rule with draft:)
)

// Statuses lists every history status, in the order they are documented.
var Statuses = []string{StatusPending, StatusSent, StatusRetrying, StatusFailed, StatusUnknown,
	StatusDryRun, StatusSkipped, StatusFlagged, StatusHeld, StatusRejected, StatusExpired, StatusHandled, StatusDrafting}

// Reasons recorded with statuses.
const (
	ReasonNoReplyRule = "no_reply_rule"    // the matching rule has no reply
	ReasonCrashed     = "crashed"          // pending when the daemon stopped; outcome unknown
	ReasonRequeued    = "requeued"         // queued, not yet sent, when the daemon stopped; sent after the restart
	ReasonApproved    = "approved"         // a held answer a person approved: sent through the retry path
	ReasonMaxAge      = "approval_max_age" // expired: held longer than approval.max_age
)

// Dispositions of a seen comment (the comments table): why it was or was not
// offered to the rules.
const (
	DispositionEvaluated = "evaluated" // rules were evaluated (matched or not)
	DispositionBacklog   = "backlog"   // already there when the thread was first seen
	DispositionSelf      = "self"      // written by one of our own accounts, or already answered on the platform
)
