package douyin

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/autoreplyd/autoreplyd/platform"
)

// full_rescan_every: 0 in the config turns periodic rescans off; the
// source is not given its default of 60 instead.
func TestSectionRescanZeroMeansNever(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ config, want int }{{0, -1}, {60, 60}, {7, 7}} {
		sec := NewSection()
		sec.Token, sec.FullRescanEvery = "t", tc.config
		src, err := newFromSection(sec, &platform.Env{})
		if err != nil {
			t.Fatal(err)
		}
		if got := src.(*Source).cfg.FullRescanEvery; got != tc.want {
			t.Errorf("full_rescan_every %d: the source rescans every %d, want %d", tc.config, got, tc.want)
		}
	}
}

// problemList records the problems of a check.
type problemList []string

func (p *problemList) Addf(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

// Watched lists the threads, then the videos by VideoID (never as threads:
// a video's id is not a comment's).
func TestSectionWatchedVideos(t *testing.T) {
	t.Parallel()
	sec := NewSection()
	sec.Threads = []platform.CommentThread{{CommentID: "7251524159191958327", Responder: "other"}}
	sec.Videos = []Video{{AwemeID: "7251517975340027197"}}
	got := sec.Watched()
	want := []platform.Watched{
		{Key: "threads[0]", ThreadID: "7251524159191958327", Responder: "other"},
		{Key: "videos[0]", VideoID: "7251517975340027197"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Watched = %+v, want %+v", got, want)
	}
	var p problemList
	sec.Check("sources.douyin", &p)
	if len(p) != 0 {
		t.Errorf("problems: %v", p)
	}
}

func TestVideoDefaults(t *testing.T) {
	t.Parallel()
	var v Video
	if !v.AnswersTopLevel() || !v.DiscoversThreads() || v.ThreadLimit() != 200 {
		t.Errorf("zero Video: answer %v, discover %v, limit %d", v.AnswersTopLevel(), v.DiscoversThreads(), v.ThreadLimit())
	}
	zero := 0
	v = Video{AwemeID: "1", TopLevel: TopLevelSkip, Threads: ThreadsOff, MaxThreads: &zero}
	if v.AnswersTopLevel() || v.DiscoversThreads() || v.ThreadLimit() != 0 {
		t.Errorf("%+v: answer %v, discover %v, limit %d", v, v.AnswersTopLevel(), v.DiscoversThreads(), v.ThreadLimit())
	}
	var p problemList
	CheckVideos(&p, "sources.douyin", []Video{v}, nil)
	if want := []string{"sources.douyin.videos[0].max_threads: 0 is outside 1..10000"}; !reflect.DeepEqual([]string(p), want) {
		t.Errorf("problems = %q, want %q", p, want)
	}
}
