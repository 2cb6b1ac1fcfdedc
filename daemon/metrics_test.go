package daemon

import (
	"strings"
	"testing"
)

// /metrics is served on the health mux: the build, the rules (re)loads, and
// every series at 0 from start; a refused reload shows.
func TestMetricsOnHealthMux(t *testing.T) {
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""))
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger(), Version: "v9.8.7"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h := d.HealthHandler()

	code, body := get(t, h, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %q", code, body)
	}
	for _, w := range []string{
		`autoreplyd_build_info{goversion="go`, `version="v9.8.7"} 1`,
		"autoreplyd_rules_reload_success 1\n",
		"autoreplyd_rules_loaded 2\n",
		`autoreplyd_rule_matches_total{rule="price"} 0`,
		`autoreplyd_rule_errors_total{rule="spam"} 0`,
		`autoreplyd_polls_total{platform="douyin"} 0`,
		`autoreplyd_replies_total{platform="douyin",status="sent"} 0`,
		`autoreplyd_paused{scope="source:douyin"} 0`,
		`autoreplyd_paused{scope="responder:kitkot"} 0`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}

	write(t, cfg.Rules, rulesBroken)
	if err := d.Reload(); err == nil {
		t.Fatal("broken rules reloaded")
	}
	_, body = get(t, h, "/metrics")
	if !strings.Contains(body, "autoreplyd_rules_reload_success 0\n") || !strings.Contains(body, "autoreplyd_rules_loaded 2\n") {
		t.Errorf("after a refused reload:\n%s", body)
	}
	write(t, cfg.Rules, rulesV2)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, h, "/metrics")
	for _, w := range []string{"autoreplyd_rules_reload_success 1\n", "autoreplyd_rules_loaded 3\n", `autoreplyd_rule_matches_total{rule="thanks"} 0`} {
		if !strings.Contains(body, w) {
			t.Errorf("after a good reload, /metrics lacks %q", w)
		}
	}
	for _, s := range []string{token, apiKey, sessionKey} {
		if strings.Contains(body, s) {
			t.Errorf("a secret is in /metrics")
		}
	}
}
