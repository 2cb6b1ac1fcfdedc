package platform

import (
	"context"

	"github.com/autoreplyd/autoreplyd/model"
)

// Video is one watched video, as a VideoSource gives it to the poller.
type Video struct {
	// ID is the video's id (Douyin's aweme_id): the PostID of its
	// comments and of the threads discovered under it.
	ID string
	// Labels label the video's top-level comments and its discovered
	// threads.
	Labels map[string]string
	// AnswerTopLevel: new top-level comments go through the rules;
	// otherwise they are recorded and never evaluated.
	AnswerTopLevel bool
	// DiscoverThreads: the threads under the video's comments whose reply
	// count moves are polled.
	DiscoverThreads bool
	// MaxThreads is the most discovered threads kept for the video.
	MaxThreads int
}

// ListedThread is a top-level comment of a video listing and the reply
// count the listing showed for it.
type ListedThread struct {
	ThreadID string
	Total    int
}

// VideoResult is what one poll of a video found.
type VideoResult struct {
	// Comments are the new top-level comments (not known to the store),
	// each its own thread, labelled with the video's labels.
	Comments []model.Comment
	// Listed are the top-level comments the poll listed, known or not,
	// with their reply counts: the evidence thread discovery works from.
	Listed []ListedThread
	// State is the video's poll state, kept like a thread's under
	// VideoStateID (Total is the listing's total, Order its order).
	State    model.ThreadState
	Calls    int
	BadTimes model.BadTimes
}

// VideoSource is a Source that also watches whole videos: it lists their
// top-level comments. The poller records what it finds and polls the
// threads the listings show moving through PollThread.
type VideoSource interface {
	Source
	// Videos are the watched videos, as configured.
	Videos() []Video
	// PollVideo lists what is new among the top-level comments of v since
	// prev (the zero state when the video was never polled). Errors are
	// those of PollThread; on error the comments found so far may still be
	// returned.
	PollVideo(ctx context.Context, v Video, prev model.ThreadState, known KnownFunc, listed ListedFunc) (VideoResult, error)
}

// ListedFunc returns the reply counts the last listings showed for those
// of ids the store knows as discovered threads (the others are absent:
// count 0). It may be nil: a poll then takes every listed count as known.
type ListedFunc func(ctx context.Context, ids []string) (map[string]int, error)

// VideoStateID is the id under which a video's poll state is kept among the
// threads' states. The prefix keeps it apart from every thread id (comment
// ids are digits) while letting the video share the threads' persistence
// and adaptive polling.
func VideoStateID(videoID string) string { return "video:" + videoID }
