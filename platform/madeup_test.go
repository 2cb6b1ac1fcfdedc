package platform_test

// A made-up platform, "forum", registered from this test package alone: the
// config decodes its sections (named, typed, routed, with a secret), the
// daemon builds it, the poller polls it and answers through it, the store
// records its history, and the rules see its name, with no other file of
// the project changed. This is the proof that adding a platform is one
// package and one line in the registry (platform/all).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/daemon"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/store"
)

const forum = "forum"

// forumAPI is the made-up platform's whole world: topics with posts, and
// the answers posted, by account.
type forumAPI struct {
	mu      sync.Mutex
	posts   map[string][]model.Comment // by topic
	answers map[string][]model.Reply   // by account (the responder's key)
}

var world = &forumAPI{posts: map[string][]model.Comment{}, answers: map[string][]model.Reply{}}

func (f *forumAPI) post(topic, id, text, nickname string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts[topic] = append(f.posts[topic], model.Comment{ID: id, Text: text, ReplyToID: "0",
		User: model.User{UID: "u" + id, Nickname: nickname}, CreatedAt: time.Now().Add(-time.Minute)})
}

// forumSection is a `sources.<name>` section of type forum.
type forumSection struct {
	platform.SourceBase `koanf:",squash"`
	Key                 platform.Secret `koanf:"key"`
	KeyFile             string          `koanf:"key_file"`
	Topics              []forumTopic    `koanf:"topics"`
}

type forumTopic struct {
	ID        string `koanf:"id"`
	Responder string `koanf:"responder"`
}

func (s *forumSection) Check(key string, p platform.Problems) {
	if len(s.Topics) == 0 {
		p.Addf(key+".topics", "no topics")
	}
	for i, t := range s.Topics {
		platform.CheckID(p, fmt.Sprintf("%s.topics[%d].id", key, i), t.ID, false)
	}
}

func (s *forumSection) Secrets() []platform.SecretRef {
	return []platform.SecretRef{{Key: "key", Value: &s.Key, File: &s.KeyFile, Required: true}}
}

func (s *forumSection) Watched() []platform.Watched {
	var out []platform.Watched
	for i, t := range s.Topics {
		out = append(out, platform.Watched{Key: fmt.Sprintf("topics[%d]", i), ThreadID: t.ID, Responder: t.Responder})
	}
	return out
}

func (s *forumSection) SelfUIDs() []string { return nil }

type forumSource struct{ threads []model.Thread }

func (s *forumSource) Platform() string        { return forum }
func (s *forumSource) Threads() []model.Thread { return s.threads }

func (s *forumSource) PollThread(ctx context.Context, th model.Thread, prev model.ThreadState, known platform.KnownFunc) (model.PollResult, error) {
	world.mu.Lock()
	posts := slices.Clone(world.posts[th.ID])
	world.mu.Unlock()
	ids := make([]string, len(posts))
	for i, c := range posts {
		ids[i] = c.ID
	}
	seen, err := known(ctx, ids)
	if err != nil {
		return model.PollResult{State: prev}, err
	}
	res := model.PollResult{Calls: 1, State: prev}
	for _, c := range posts {
		if !seen[c.ID] {
			c.Platform, c.ThreadID, c.PostID = forum, th.ID, th.ID
			res.Comments = append(res.Comments, c)
		}
	}
	res.State.Platform, res.State.ThreadID, res.State.Initialized = forum, th.ID, true
	res.State.Known = int64(len(posts))
	return res, nil
}

type forumResponderSection struct {
	platform.ResponderBase `koanf:",squash"`
	Account                string `koanf:"account"`
}

func (s *forumResponderSection) Check(key string, p platform.Problems) {
	platform.CheckRequired(p, key+".account", s.Account)
}
func (s *forumResponderSection) Secrets() []platform.SecretRef { return nil }

type forumResponder struct{ account string }

func (r *forumResponder) Name() string { return forum }

func (r *forumResponder) Send(_ context.Context, reply model.Reply) (model.SendResult, error) {
	world.mu.Lock()
	defer world.mu.Unlock()
	world.answers[r.account] = append(world.answers[r.account], reply)
	return model.SendResult{PlatformReplyID: fmt.Sprintf("a%d", len(world.answers[r.account]))}, nil
}

func init() {
	platform.Register(platform.Spec{Type: forum,
		Source: &platform.SourceSpec{
			Platform:         forum,
			DefaultResponder: forum,
			NewSection: func() platform.SourceSection {
				return &forumSection{SourceBase: platform.NewSourceBase("https://forum.invalid", time.Second)}
			},
			New: func(sec platform.SourceSection, _ *platform.Env) (platform.Source, error) {
				s := sec.(*forumSection)
				if s.Key.Value() != "forum-KEY-5d1e" {
					return nil, fmt.Errorf("wrong key")
				}
				src := &forumSource{}
				for _, t := range s.Topics {
					src.threads = append(src.threads, model.Thread{ID: t.ID, PostID: t.ID})
				}
				return src, nil
			},
		},
		Responder: &platform.ResponderSpec{
			Answers: []string{forum},
			NewSection: func() platform.ResponderSection {
				return &forumResponderSection{ResponderBase: platform.NewResponderBase("https://forum.invalid", "100/s")}
			},
			New: func(sec platform.ResponderSection, _ *platform.Env) (platform.Responder, error) {
				return &forumResponder{account: sec.(*forumResponderSection).Account}, nil
			},
		},
	})
}

func TestMadeUpPlatform(t *testing.T) {
	t.Parallel()
	if !slices.Contains(platform.Platforms(), forum) || !slices.Contains(platform.SourceTypes(), forum) {
		t.Fatalf("registry: platforms %v, source types %v", platform.Platforms(), platform.SourceTypes())
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("forum-key", "forum-KEY-5d1e\n")
	write("rules.yaml", `rules:
  - name: hello
    when: 'platform == "forum" && text contains "你好"'
    reply: '{{ user.nickname }}，你好 👋'
`)
	cfgPath := write("config.yaml", `database: forum.db
rules: rules.yaml
listen: ""
send_jitter: 0s
sources:
  forum:
    key_file: forum-key
    backlog: answer
    topics:
      - {id: "101"}
      - {id: "102", responder: helper}
responders:
  forum: {account: owner}
  helper: {type: forum, account: helper}
`)
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The secret is redacted in the effective configuration.
	if s := cfg.String(); !strings.Contains(s, `sources.forum.key = [redacted]`) || strings.Contains(s, "forum-KEY") {
		t.Fatalf("config:\n%s", s)
	}
	world.post("101", "9001", "你好呀", "小明")
	world.post("102", "9002", "你好！", "小红")
	world.post("102", "9003", "路过", "小刚")

	d, err := daemon.New(t.Context(), cfg, daemon.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	st := d.Cycle(t.Context())
	if st.Sent != 2 || st.Polled != 2 {
		t.Fatalf("cycle: %+v", st)
	}
	world.mu.Lock()
	owner, helper := world.answers["owner"], world.answers["helper"]
	world.mu.Unlock()
	if len(owner) != 1 || owner[0].Comment.ID != "9001" || owner[0].Text != "小明，你好 👋" {
		t.Errorf("owner's answers: %+v", owner)
	}
	if len(helper) != 1 || helper[0].Comment.ID != "9002" || helper[0].Text != "小红，你好 👋" {
		t.Errorf("helper's answers (topic 102 is routed to it): %+v", helper)
	}
	rows, err := d.Store().History(t.Context(), store.Filter{Platform: forum})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.CommentID] = r.Responder + " " + r.Status
	}
	if got["9001"] != "forum sent" || got["9002"] != "helper sent" || len(got) != 2 {
		t.Errorf("history: %v", got)
	}

	// A second cycle answers nothing again.
	if st := d.Cycle(t.Context()); st.Sent != 0 || st.New != 0 {
		t.Errorf("second cycle: %+v", st)
	}

	// The config refuses what it refuses for the shipped platforms.
	bad := write("bad.yaml", strings.Replace(mustRead(t, cfgPath), `responder: helper`, `responder: nobody`, 1))
	if _, err := config.Load(bad, nil); err == nil || !strings.Contains(err.Error(), `sources.forum.topics[1].responder: unknown responder "nobody"`) {
		t.Errorf("route to an unknown responder: %v", err)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
