package douyin

import (
	"maps"

	"github.com/autoreplyd/autoreplyd/platform"
)

// The `videos` entries of a douyin section: whole videos watched.

// What a watched video does with its new top-level comments (`top_level`).
const (
	// TopLevelAnswer: a new top-level comment goes through the rules like
	// a reply, and is answered under itself.
	TopLevelAnswer = "answer"
	// TopLevelSkip: top-level comments are only read for their threads.
	TopLevelSkip = "skip"
)

// What a watched video does with the threads under its comments
// (`threads`).
const (
	// ThreadsDiscover: a thread whose reply count rose above what we know,
	// and every thread under a comment we answered, gets its replies polled.
	ThreadsDiscover = "discover"
	// ThreadsOff: only the top-level comments are watched.
	ThreadsOff = "off"
)

const (
	// DefaultMaxThreads is how many discovered threads of one video are
	// kept, the most recently active: a popular video has thousands of
	// top-level comments, but the conversations still going on under it are
	// a few hundred at most, and each kept thread is a row and, when its
	// count moves, a billed poll.
	DefaultMaxThreads = 200
	// MaxMaxThreads bounds max_threads: beyond ten thousand threads a video
	// would be polled like a whole account, which is not what a section's
	// rate and cost are sized for.
	MaxMaxThreads = 10000
	// DefaultVideoMaxPages caps the pages of a video listed in one cycle
	// when the listing's order does not tell where new comments are (it is
	// not documented, and Douyin's default is "hot"). Five pages of 20 are
	// a video's first 100 top-level comments, which is the whole of most
	// videos an operator watches, for at most 5 billed calls per changed
	// video per cycle; a video whose listing is newest first stops at the
	// first page without anything new, whatever the cap.
	DefaultVideoMaxPages = 5
)

// Video is one watched video, an entry of `videos`.
type Video struct {
	// AwemeID is the video's id, all digits.
	AwemeID string `koanf:"aweme_id" json:"aweme_id"`
	// Labels label the video's top-level comments and every thread
	// discovered under it.
	Labels map[string]string `koanf:"labels" json:"labels,omitempty"`
	// TopLevel is TopLevelAnswer or TopLevelSkip; empty: answer.
	TopLevel string `koanf:"top_level" json:"top_level,omitempty"`
	// Threads is ThreadsDiscover or ThreadsOff; empty: discover.
	Threads string `koanf:"threads" json:"threads,omitempty"`
	// MaxThreads is the most discovered threads kept; nil: the default. A
	// pointer, so that an explicit 0 is refused rather than read as absent.
	MaxThreads *int `koanf:"max_threads" json:"max_threads,omitempty"`
}

// AnswersTopLevel reports whether the video's new top-level comments go
// through the rules.
func (v Video) AnswersTopLevel() bool { return v.TopLevel != TopLevelSkip }

// DiscoversThreads reports whether the threads under the video's comments
// are watched.
func (v Video) DiscoversThreads() bool { return v.Threads != ThreadsOff }

// ThreadLimit is max_threads, or its default.
func (v Video) ThreadLimit() int {
	if v.MaxThreads == nil {
		return DefaultMaxThreads
	}
	return *v.MaxThreads
}

// CheckVideos checks a section's videos: ids, labels, modes, bounds, no
// video listed twice (in the YAML list or its file); from says where each
// was written (nil: all in the YAML).
//
// A video may also be the aweme_id of an explicit thread: nothing is then
// answered twice. The explicit thread's replies are polled once, as that
// thread (with its own labels and responder): discovery never takes over a
// thread the config lists (store.RecordVideoListing skips it). The thread's
// top-level comment itself is the video's to answer, and an explicit thread
// never answers its own top-level comment.
func CheckVideos(p platform.Problems, section string, vs []Video, from *platform.ListFrom) {
	seen := make(map[string]int, len(vs))
	for i, v := range vs {
		k := section + "." + from.Key("videos", i)
		platform.CheckID(p, k+".aweme_id", v.AwemeID, false)
		platform.CheckLabels(p, k+".labels", v.Labels)
		switch v.TopLevel {
		case "", TopLevelAnswer, TopLevelSkip:
		default:
			p.Addf(k+".top_level", "%q is not one of %s, %s", v.TopLevel, TopLevelAnswer, TopLevelSkip)
		}
		switch v.Threads {
		case "", ThreadsDiscover, ThreadsOff:
		default:
			p.Addf(k+".threads", "%q is not one of %s, %s", v.Threads, ThreadsDiscover, ThreadsOff)
		}
		if n := v.ThreadLimit(); n < 1 || n > MaxMaxThreads {
			p.Addf(k+".max_threads", "%d is outside 1..%d", n, MaxMaxThreads)
		}
		if v.AwemeID == "" {
			continue
		}
		if j, dup := seen[v.AwemeID]; dup {
			p.Addf(k+".aweme_id", "duplicate aweme_id %s: also at %s.%s", v.AwemeID, section, from.Key("videos", j))
			continue
		}
		seen[v.AwemeID] = i
	}
}

// videosModel converts the section's videos to what the poller is given.
func videosModel(vs []Video) []platform.Video {
	out := make([]platform.Video, 0, len(vs))
	for _, v := range vs {
		out = append(out, platform.Video{
			ID:              v.AwemeID,
			Labels:          maps.Clone(v.Labels),
			AnswerTopLevel:  v.AnswersTopLevel(),
			DiscoverThreads: v.DiscoversThreads(),
			MaxThreads:      v.ThreadLimit(),
		})
	}
	return out
}
