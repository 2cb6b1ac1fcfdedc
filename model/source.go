package model

import (
	"fmt"
	"time"
)

// Thread is one watched comment thread, as configured.
type Thread struct {
	// ID is the thread's id as its source names it: what the source polls
	// (a top-level comment whose replies are listed, an article, a post).
	ID string
	// PostID is the video, article or post the thread lives under.
	PostID string
	Labels map[string]string // the operator's labels, visible to rules
}

// Reply orders a source may detect in a thread's listing.
const (
	OrderUnknown = ""       // not yet detected
	OrderNewest  = "newest" // newest first
	OrderOldest  = "oldest" // oldest first
	OrderMixed   = "mixed"  // neither: "recommended" or unstable
)

// ThreadState is what a source remembers about a thread between polls; the
// store persists it. The zero value means the thread was never polled.
type ThreadState struct {
	Platform string
	ThreadID string
	// Initialized is false until the first complete scan of the thread has
	// been recorded: the comments returned by that scan are the backlog.
	Initialized  bool
	Total        int64  // the platform's last reported total (a hint only)
	Known        int64  // how many replies of this thread have been seen
	Order        string // Order* constant detected from create times
	PageSize     int    // the page size observed (0 = unknown)
	Cursor       string // an opaque per-platform cursor (e.g. Weibo since_id)
	Polls        int64  // polls since the thread was first seen
	LastFullScan time.Time
	LastPolled   time.Time
	// IdlePolls counts the polls in a row that found nothing new: adaptive
	// polling backs a quiet thread off on it (0 after any new reply).
	IdlePolls int64
	// NextPoll is the earliest time adaptive polling polls the thread again;
	// zero means at the next cycle.
	NextPoll time.Time
}

// PollResult is what one poll of one thread found.
type PollResult struct {
	// Comments are the comments not known before this poll, sorted by
	// CreatedAt ascending (ties by ID), each with Platform, ThreadID,
	// PostID and Labels filled.
	Comments []Comment
	// State is the thread's state to persist once Comments are recorded.
	State ThreadState
	Calls int // API calls made (each may be billed)
	// BadTimes are the new comments whose platform time was unusable and
	// was replaced by the time of the poll; the poller warns once per poll.
	BadTimes BadTimes
}

// BadTimes counts the new comments of one poll whose create time, as the
// platform gave it, was unreadable or implausible (a unit error, garbage, a
// year past 9999): each was given the poll's time instead, the time it was
// seen, so that no impossible time reaches the store.
type BadTimes struct {
	Count    int
	FirstID  string // the first such comment's id
	FirstRaw string // its time as the platform gave it, shortened
}

// SourceAction says what the poller must do after a source error.
type SourceAction int

const (
	// SourceRetry is a passing failure (network, HTTP 5xx, broken JSON, a
	// platform's "try again" code): try the thread again next cycle.
	SourceRetry SourceAction = iota
	// SourceBackoff means the platform asked us to slow down: stop polling
	// this source for this cycle, and for RetryAfter if set.
	SourceBackoff
	// SourcePause stops polling this source until Until (a daily quota:
	// until the next local day). Persisted across restarts.
	SourcePause
	// SourceStop means the operator must act (bad token, no balance, no
	// permission). Stop the source and say so loudly; never retry on our
	// own.
	SourceStop
	// SourceSkipThread means this thread is wrong (the platform refuses its
	// ids as invalid parameters): skip it, keep the others.
	SourceSkipThread
)

func (a SourceAction) String() string {
	switch a {
	case SourceRetry:
		return "retry"
	case SourceBackoff:
		return "backoff"
	case SourcePause:
		return "pause"
	case SourceStop:
		return "stop"
	case SourceSkipThread:
		return "skip_thread"
	}
	return fmt.Sprintf("SourceAction(%d)", int(a))
}

// SourceError is the typed error a source returns. Its message must never
// contain a secret (tokens travel in query strings).
type SourceError struct {
	Action     SourceAction
	Code       string        // the platform's business code, "" for transport errors
	Msg        string        // the platform's message or a transport description
	Until      time.Time     // with SourcePause
	RetryAfter time.Duration // with SourceBackoff, optional
}

func (e *SourceError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s: code %s: %s", e.Action, e.Code, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Action, e.Msg)
}
