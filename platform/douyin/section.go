package douyin

import (
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Type is the section type of the JustOneAPI Douyin source.
const Type = "douyin"

// DefaultBaseURL is JustOneAPI's.
const DefaultBaseURL = "https://api.justoneapi.com"

func init() {
	platform.Register(platform.Spec{Type: Type, Source: &platform.SourceSpec{
		Platform:         model.PlatformDouyin,
		DefaultResponder: "kitkot",
		NewSection:       func() platform.SourceSection { return NewSection() },
		New:              newFromSection,
	}})
}

// Section is a `sources.<name>` section of type douyin.
type Section struct {
	platform.SourceBase `koanf:",squash"`
	Token               platform.Secret `koanf:"token" json:"token"`
	TokenFile           string          `koanf:"token_file" json:"token_file,omitempty"`
	// SelfUIDList are our own accounts, never answered.
	SelfUIDList []string `koanf:"self_uids" json:"self_uids"`
	// MaxPages caps the pages fetched per poll of one thread.
	MaxPages int `koanf:"max_pages" json:"max_pages"`
	// FullRescanEvery is the number of polls between full rescans of a
	// thread (a safety net against unstable paging); 0 turns it off.
	FullRescanEvery int                      `koanf:"full_rescan_every" json:"full_rescan_every"`
	Threads         []platform.CommentThread `koanf:"threads" json:"threads"`
	// ThreadsFile holds more threads, one JSON object a line (see
	// platform.ListOf), watched after those of Threads.
	ThreadsFile string `koanf:"threads_file" json:"threads_file,omitempty"`
	// Videos are whole videos watched: their top-level comments, and the
	// threads under them.
	Videos []Video `koanf:"videos" json:"videos,omitempty"`
	// VideosFile holds more videos, as ThreadsFile holds threads.
	VideosFile string `koanf:"videos_file" json:"videos_file,omitempty"`
	// VideoMaxPages caps the pages of one video listed in one cycle.
	VideoMaxPages int `koanf:"video_max_pages" json:"video_max_pages"`
	// StopPause is how long a credentials or balance refusal (JustOneAPI
	// 100/300/600/601/602) is persisted as a pause of the source.
	StopPause time.Duration `koanf:"stop_pause" json:"stop_pause"`

	threadsFrom, videosFrom platform.ListFrom
}

// NewSection returns a section with every default.
func NewSection() *Section {
	return &Section{
		SourceBase:      platform.NewSourceBase(DefaultBaseURL, DefaultTimeout),
		MaxPages:        DefaultMaxPages,
		FullRescanEvery: DefaultFullRescanEvery,
		VideoMaxPages:   DefaultVideoMaxPages,
		StopPause:       platform.DefaultSourceStopPause,
	}
}

// Check implements platform.SourceSection.
func (s *Section) Check(key string, p platform.Problems) {
	platform.CheckSelfUIDs(p, key, s.SelfUIDList)
	platform.CheckPaging(p, key, s.MaxPages, s.FullRescanEvery)
	// A section may watch videos only: the "at least one thread" of
	// CheckCommentThreads then becomes "at least one thread or video".
	switch {
	case len(s.Threads) > 0:
		platform.CheckCommentThreads(p, key, s.Threads, &s.threadsFrom)
	case len(s.Videos) == 0:
		p.Addf(key+".threads", "no threads or videos to watch: list at least one thread {comment_id, aweme_id} or video {aweme_id} (in threads, threads_file, videos or videos_file)")
	}
	CheckVideos(p, key, s.Videos, &s.videosFrom)
	if s.VideoMaxPages < 1 {
		p.Addf(key+".video_max_pages", "must be at least 1")
	}
	platform.CheckPositive(p, key+".stop_pause", s.StopPause)
}

// Secrets implements platform.SourceSection.
func (s *Section) Secrets() []platform.SecretRef {
	return []platform.SecretRef{{Key: "token", Value: &s.Token, File: &s.TokenFile, Required: true}}
}

// ListFiles implements platform.ListFiler: threads_file and videos_file.
func (s *Section) ListFiles() []platform.ListFile {
	return []platform.ListFile{
		platform.ListOf("threads", &s.ThreadsFile, &s.Threads, &s.threadsFrom),
		platform.ListOf("videos", &s.VideosFile, &s.Videos, &s.videosFrom),
	}
}

// Watched implements platform.SourceSection.
// The videos come after the threads, each with its VideoID set and no
// ThreadID: a video is not a thread, and the threads it leads to are found
// at run time.
func (s *Section) Watched() []platform.Watched {
	out := platform.CommentThreadsWatched(s.Threads, &s.threadsFrom)
	for i, v := range s.Videos {
		out = append(out, platform.Watched{Key: s.videosFrom.Key("videos", i), VideoID: v.AwemeID})
	}
	return out
}

// SelfUIDs implements platform.SourceSection.
func (s *Section) SelfUIDs() []string { return s.SelfUIDList }

// SourceStopPause is how long a stop is persisted as a pause.
func (s *Section) SourceStopPause() time.Duration { return s.StopPause }

func newFromSection(sec platform.SourceSection, env *platform.Env) (platform.Source, error) {
	s := sec.(*Section)
	return New(Config{
		BaseURL:         s.BaseURL,
		Token:           s.Token.Value(),
		Timeout:         s.Timeout,
		MaxPages:        s.MaxPages,
		FullRescanEvery: platform.RescanEvery(s.FullRescanEvery),
		Threads:         platform.CommentThreadsModel(s.Threads),
		Videos:          videosModel(s.Videos),
		VideoMaxPages:   s.VideoMaxPages,
		Location:        env.Location,
		Rate:            s.RateLimit,
		Burst:           s.Burst,
	})
}
