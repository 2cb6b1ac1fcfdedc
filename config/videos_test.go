package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/platform/douyin"
)

func TestDouyinVideos(t *testing.T) {
	c := mustLoad(t, `
responders: {kitkot: {api_key: a, session_key: s}}
sources:
  douyin:
    token: t
    video_max_pages: 3
    videos:
      - aweme_id: "7251517975340027197"
        labels: {campaign: 春季, 表情: "🌸"}
      - aweme_id: 18446744073709551617
        top_level: skip
        threads: "off"
        max_threads: 10000
`)
	sec := srcs(c).Douyin
	if len(sec.Threads) != 0 || len(sec.Videos) != 2 || sec.VideoMaxPages != 3 {
		t.Fatalf("threads %d, videos %+v, video_max_pages %d", len(sec.Threads), sec.Videos, sec.VideoMaxPages)
	}
	v0, v1 := sec.Videos[0], sec.Videos[1]
	if v0.AwemeID != "7251517975340027197" || v0.Labels["campaign"] != "春季" || v0.Labels["表情"] != "🌸" {
		t.Errorf("videos[0] = %+v", v0)
	}
	if !v0.AnswersTopLevel() || !v0.DiscoversThreads() || v0.ThreadLimit() != douyin.DefaultMaxThreads {
		t.Errorf("videos[0] defaults: answer %v, discover %v, max_threads %d", v0.AnswersTopLevel(), v0.DiscoversThreads(), v0.ThreadLimit())
	}
	// An unquoted id beyond 2^64 keeps its digits: ids are text.
	if v1.AwemeID != "18446744073709551617" || v1.AnswersTopLevel() || v1.DiscoversThreads() || v1.ThreadLimit() != 10000 {
		t.Errorf("videos[1] = %+v (limit %d)", v1, v1.ThreadLimit())
	}
	// The videos are watched entries of the section, after its threads.
	var keys []string
	for _, w := range sec.Watched() {
		keys = append(keys, w.Key+"="+w.VideoID+"/"+w.ThreadID)
	}
	if got := strings.Join(keys, " "); got != "videos[0]=7251517975340027197/ videos[1]=18446744073709551617/" {
		t.Errorf("watched = %s", got)
	}
}

func TestDouyinVideosDefaultMaxPages(t *testing.T) {
	c := mustLoad(t, `
responders: {kitkot: {api_key: a, session_key: s}}
sources:
  douyin: {token: t, videos: [{aweme_id: "1"}]}
`)
	if got := srcs(c).Douyin.VideoMaxPages; got != douyin.DefaultVideoMaxPages {
		t.Errorf("video_max_pages = %d, want %d", got, douyin.DefaultVideoMaxPages)
	}
}

func TestDouyinVideosRefused(t *testing.T) {
	msg := loadErr(t, `
responders: {kitkot: {api_key: a, session_key: s}}
sources:
  douyin:
    token: t
    video_max_pages: 0
    videos:
      - aweme_id: "7251517975340027197"
      - aweme_id: "12x"
      - aweme_id: 7251517975340027197
      - labels: {" ": x}
        top_level: always
        threads: all
        max_threads: 0
      - aweme_id: "2"
        max_threads: 10001
`)
	wantContains(t, msg,
		"sources.douyin.video_max_pages: must be at least 1",
		`sources.douyin.videos[1].aweme_id: "12x" is not a numeric id`,
		"sources.douyin.videos[2].aweme_id: duplicate aweme_id 7251517975340027197: also at sources.douyin.videos[0]",
		"sources.douyin.videos[3].aweme_id: missing",
		"sources.douyin.videos[3].labels: empty label name",
		`sources.douyin.videos[3].top_level: "always" is not one of answer, skip`,
		`sources.douyin.videos[3].threads: "all" is not one of discover, off`,
		"sources.douyin.videos[3].max_threads: 0 is outside 1..10000",
		"sources.douyin.videos[4].max_threads: 10001 is outside 1..10000",
	)
	if strings.Contains(msg, "no threads or videos to watch") {
		t.Errorf("a section with videos and no threads was refused as watching nothing:\n%s", msg)
	}
}

func TestDouyinNothingToWatch(t *testing.T) {
	msg := loadErr(t, `
responders: {kitkot: {api_key: a, session_key: s}}
sources:
  douyin: {token: t}
`)
	wantContains(t, msg, "sources.douyin.threads: no threads or videos to watch: list at least one thread {comment_id, aweme_id} or video {aweme_id}")
}

// An explicit thread under a watched video that discovers threads is
// allowed: its replies are polled once, as the explicit thread (see
// douyin.CheckVideos).
func TestDouyinExplicitThreadUnderWatchedVideo(t *testing.T) {
	c := mustLoad(t, `
responders: {kitkot: {api_key: a, session_key: s}}
sources:
  douyin:
    token: t
    threads: [{comment_id: "7251524159191958327", aweme_id: "7251517975340027197", labels: {campaign: own}}]
    videos: [{aweme_id: "7251517975340027197", threads: discover}]
`)
	if sec := srcs(c).Douyin; len(sec.Threads) != 1 || len(sec.Videos) != 1 {
		t.Fatalf("threads %v, videos %v", sec.Threads, sec.Videos)
	}
}

// Two sections watching one video would list it, and answer its top-level
// comments, twice a cycle; a video id equal to a thread id is no clash.
func TestDouyinVideoInTwoSections(t *testing.T) {
	msg := loadErr(t, `
responders: {kitkot: {api_key: a, session_key: s}}
sources:
  douyin:
    token: t
    threads: [{comment_id: "5"}]
    videos: [{aweme_id: "7251517975340027197"}]
  douyin2:
    type: douyin
    token: t
    videos: [{aweme_id: "5"}, {aweme_id: "7251517975340027197"}]
`)
	wantContains(t, msg, "sources.douyin2.videos[1]: video 7251517975340027197 is also watched by sources.douyin.videos[0]: watch a video in one section only")
	if strings.Contains(msg, "douyin2.videos[0]") {
		t.Errorf("video 5 clashed with thread 5:\n%s", msg)
	}
}

// The commented-out videos of config.example.yaml, uncommented, load: a
// video whose threads are listed in `threads` too is allowed.
func TestExampleVideosLoad(t *testing.T) {
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for line := range strings.SplitSeq(string(example), "\n") {
		switch {
		case strings.HasPrefix(line, "    # videos:"):
			in = true
		case in && !strings.HasPrefix(line, "    # "):
			in = false
		}
		if in {
			line = "    " + strings.TrimPrefix(line, "    # ")
		}
		out = append(out, line)
	}
	credDir := t.TempDir()
	for _, name := range []string{"justoneapi-token", "kitkot-api-key", "kitkot-session-key"} {
		if err := os.WriteFile(filepath.Join(credDir, name), []byte("secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, []string{"CREDENTIALS_DIRECTORY=" + credDir})
	if err != nil {
		t.Fatal(err)
	}
	sec := srcs(c).Douyin
	if len(sec.Videos) != 1 || sec.Videos[0].AwemeID != "7251517975340027197" || sec.Videos[0].ThreadLimit() != 200 ||
		sec.Videos[0].Labels["campaign"] != "spring" || sec.VideoMaxPages != 5 || len(sec.Threads) != 2 {
		t.Errorf("videos %+v, video_max_pages %d, threads %d", sec.Videos, sec.VideoMaxPages, len(sec.Threads))
	}
}
