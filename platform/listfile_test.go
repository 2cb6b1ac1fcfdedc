package platform

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

type problemList []string

func (p *problemList) Addf(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

// Every problem of one thread is found, whichever way the check takes
// (the keys are made only for a thread with a problem).
func TestCheckCommentThreadsProblems(t *testing.T) {
	t.Parallel()
	ts := []CommentThread{
		{CommentID: "1", AwemeID: "2", Labels: map[string]string{"a": "b"}},
		{CommentID: "x1"},
		{CommentID: "3", AwemeID: "0x10"},
		{CommentID: "4", Labels: map[string]string{" ": "blank"}},
		{CommentID: "5", Responder: "Shop!"},
		{CommentID: "6", Responder: "shop"},
		{CommentID: "1"},
		{},
	}
	var p problemList
	CheckCommentThreads(&p, "sources.d", ts, nil)
	want := []string{
		`sources.d.threads[1].comment_id: "x1" is not a numeric id`,
		`sources.d.threads[2].aweme_id: "0x10" is not a numeric id`,
		`sources.d.threads[3].labels: empty label name`,
		`sources.d.threads[4].responder: "Shop!" is not a section name`,
		`sources.d.threads[6].comment_id: duplicate comment_id 1: also at sources.d.threads[0]`,
		`sources.d.threads[7].comment_id: missing`,
	}
	if len(p) != len(want) {
		t.Fatalf("problems:\n%s", strings.Join(p, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(p[i], w) {
			t.Errorf("problem %d = %q, want %q…", i, p[i], w)
		}
	}
}

func TestListFromKey(t *testing.T) {
	t.Parallel()
	var none *ListFrom
	from := &ListFrom{inline: 2, file: "t.jsonl", lines: []int{3, 10}}
	got := []string{none.Key("threads", 5), (&ListFrom{}).Key("weibos", 0),
		from.Key("threads", 1), from.Key("threads", 2), from.Key("threads", 3)}
	want := []string{"threads[5]", "weibos[0]", "threads[1]", "threads_file[t.jsonl:3]", "threads_file[t.jsonl:10]"}
	if !slices.Equal(got, want) {
		t.Errorf("keys %q, want %q", got, want)
	}
}
