package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/rules"
)

func TestBuildTikTok(t *testing.T) {
	t.Parallel()
	src := kitkot.NewSourceSection()
	src.BaseURL, src.APIKey, src.Responder, src.Timeout, src.MaxPages = "http://127.0.0.1:1/api", "tk-key", "kitkot", time.Second, 10
	src.Threads = []platform.CommentThread{{CommentID: "7300000000000000011", AwemeID: "7300000000000000001"}}
	resp := kitkot.NewResponderSection()
	resp.BaseURL, resp.APIKey, resp.SessionKey, resp.Timeout = "http://127.0.0.1:1/api", "tk-key", "s", time.Second
	cfg := &config.Config{
		Location:   time.UTC,
		Sources:    []*config.Source{sourceOf(t, "tiktok", "tiktok", src)},
		Responders: []*config.Responder{responderOf(t, "kitkot", "kitkot", resp)},
	}
	bindings, rs, _, err := Build(cfg)
	if err != nil || len(bindings) != 1 || bindings[0].Source.Platform() != "tiktok" || bindings[0].Responder != "kitkot" || rs["kitkot"] == nil {
		t.Fatalf("Build: %v %v %v", bindings, rs, err)
	}
	if th := bindings[0].Source.Threads(); len(th) != 1 || th[0].PostID != "7300000000000000001" {
		t.Fatalf("threads %+v", th)
	}

	set, err := rules.LoadBytes("r.yaml", []byte("rules:\n  - name: a\n    when: 'true'\n    reply: hi\n    via: kitkot\n"), rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckVia(set, rs); err != nil {
		t.Fatalf("via kitkot: %v", err)
	}
	set, err = rules.LoadBytes("r.yaml", []byte("rules:\n  - name: a\n    when: 'true'\n    reply: hi\n    via: weibo\n"), rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = CheckVia(set, rs)
	if err == nil || !strings.Contains(err.Error(), `r.yaml:2: rule "a": via "weibo" is not a configured responder (configured: kitkot)`) {
		t.Fatalf("via weibo: %v", err)
	}
}

// New and reloads refuse a rule whose via names no configured responder.
func TestViaChecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	viaNope := rulesV1 + "  - name: routed\n    when: 'true'\n    reply: hi\n    via: nope\n"
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", viaNope, ""))
	if _, err := New(t.Context(), cfg, Options{Logger: quietLogger()}); err == nil || !strings.Contains(err.Error(), `via "nope"`) {
		t.Fatalf("New: %v", err)
	}
	testutil.WriteFile(t, cfg.Rules, strings.Replace(viaNope, "via: nope", "via: kitkot", 1))
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	before := d.Rules()
	testutil.WriteFile(t, cfg.Rules, viaNope)
	if err := d.Reload(); err == nil || !strings.Contains(err.Error(), `via "nope" is not a configured responder`) {
		t.Fatalf("Reload: %v", err)
	}
	if d.Rules() != before {
		t.Error("a refused reload replaced the rules")
	}
}
