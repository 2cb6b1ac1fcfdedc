package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// checkWorld writes a config (with extra appended) and rules into a fresh
// directory and returns the config path and the database path it names.
func checkWorld(t *testing.T, rules, extra string) (cfg, db string) {
	t.Helper()
	dir := t.TempDir()
	db = filepath.Join(dir, "state", "autoreplyd.db")
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), rules)
	cfg = filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfg, configYAML("state/autoreplyd.db", "rules.yaml", extra))
	// It holds secrets inline: private, or check warns (see
	// TestCheckInlineSecretsReadable).
	if err := os.Chmod(cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, db
}

// assertNoDatabase checks that check created neither the database nor its
// directory.
func assertNoDatabase(t *testing.T, db string) {
	t.Helper()
	if _, err := os.Stat(filepath.Dir(db)); !os.IsNotExist(err) {
		t.Errorf("check created %s (stat: %v)", filepath.Dir(db), err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("check created the database %s (stat: %v)", db, err)
	}
}

func TestCheckGood(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	r := runCLI(t, nil, "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q, want nothing", r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want two OK lines, got:\n%s", r.stdout)
	}
	wantCfg := "config " + cfg + ": OK (1 source(s), 2 thread(s), 1 responder(s), schedule \"@every 1m\", timezone Asia/Shanghai)"
	if lines[0] != wantCfg {
		t.Errorf("line 1:\n got %q\nwant %q", lines[0], wantCfg)
	}
	wantRules := "rules " + filepath.Join(filepath.Dir(cfg), "rules.yaml") + ": OK (2 rule(s) in 1 file(s))"
	if lines[1] != wantRules {
		t.Errorf("line 2:\n got %q\nwant %q", lines[1], wantRules)
	}
	assertNoDatabase(t, db)
}

// The config path also comes from $AUTOREPLYD_CONFIG, and overrides from
// the explicit environment.
func TestCheckConfigFromEnviron(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	r := runCLI(t, []string{"AUTOREPLYD_CONFIG=" + cfg, "AUTOREPLYD_SCHEDULE=@every 5m"}, "check")
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "config "+cfg+": OK") || !strings.Contains(r.stdout, `schedule "@every 5m"`) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	assertNoDatabase(t, db)
}

func TestCheckRulesErrors(t *testing.T) {
	t.Parallel()
	// Two broken rules: an unknown name in a condition (line 3) and a
	// broken template (line 6). Both must be reported.
	const broken = `rules:
  - name: one
    when: 'txet contains "a"'
  - name: two
    when: 'true'
    reply: '{{ user.nicknam }}'
`
	cfg, db := checkWorld(t, broken, "")
	r := runCLI(t, nil, "check", "--config", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	rulesPath := filepath.Join(filepath.Dir(cfg), "rules.yaml")
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want two error lines, got:\n%s", r.stderr)
	}
	for i, want := range []struct{ line, rule, name string }{{"3", "one", "txet"}, {"6", "two", "nicknam"}} {
		re := regexp.MustCompile(`^` + regexp.QuoteMeta(rulesPath) + `:` + want.line + `:[0-9]+: rule "` + want.rule + `": .*` + want.name)
		if !re.MatchString(lines[i]) {
			t.Errorf("error %d = %q, want FILE:%s:COL naming rule %s and %q", i+1, lines[i], want.line, want.rule, want.name)
		}
	}
	assertNoDatabase(t, db)
}

func TestCheckConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, extra string
		want        []string
	}{
		{"unknown top-level key", "scheduel: \"@every 2m\"\n", []string{"scheduel"}},
		{"unknown nested key", "log:\n  levle: debug\n", []string{"log.levle"}}, //nolint:misspell // a deliberate typo: the case checks the did-you-mean message
		{"weibo source whose responder is not configured", `  weibo:
    base_url: http://127.0.0.1:1
    access_token: wb-secret
    responder: weibo
    self_uids: ["1"]
    weibos: [{id: "4023227965"}]
`, []string{"sources.weibo.responder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, db := checkWorld(t, goodRules, "")
			if strings.HasPrefix(tc.extra, "  weibo:") {
				// a second source under the existing sources: section
				b, err := os.ReadFile(cfg)
				if err != nil {
					t.Fatal(err)
				}
				s := strings.Replace(string(b), "responders:\n", tc.extra+"responders:\n", 1)
				testutil.WriteFile(t, cfg, s)
			} else {
				b, err := os.ReadFile(cfg)
				if err != nil {
					t.Fatal(err)
				}
				testutil.WriteFile(t, cfg, string(b)+tc.extra)
			}
			r := runCLI(t, nil, "check", "--config", cfg)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.stderr)
				}
			}
			if !strings.Contains(r.stderr, cfg) {
				t.Errorf("stderr does not name the config file %s:\n%s", cfg, r.stderr)
			}
			if strings.Contains(r.stderr, "kk-key") || strings.Contains(r.stderr, "jo-token") || strings.Contains(r.stderr, "wx-secret") {
				t.Errorf("stderr contains a secret:\n%s", r.stderr)
			}
			assertNoDatabase(t, db)
		})
	}
}

func TestCheckMissingConfig(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	r := runCLI(t, nil, "check", "--config", missing)
	if r.code != 1 || !strings.Contains(r.stderr, "nope.yaml") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// A rate limit too low for the threads watched passes check with a warning
// on stderr naming the key, and the OK lines on stdout.
func TestCheckCapacityWarning(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	r := runCLI(t, []string{"AUTOREPLYD_SOURCES__DOUYIN__RATE=1/h", "AUTOREPLYD_SOURCES__DOUYIN__MAX_INTERVAL=0"}, "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	want := "warning: sources.douyin: 2 threads polled every cycle need at least 2 calls a cycle, but rate 1/h allows 1 in the 1m0s between cycles: " +
		"each cycle takes at least 2h0m0s"
	if !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr:\n%s\nwant one line starting %q", r.stderr, want)
	}
	if !strings.Contains(r.stdout, "config "+cfg+": OK") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	assertNoDatabase(t, db)
}

// TestHostileNestingRefusedByEveryCommand: the expression bounds hold in
// check, test and explain alike (reload: daemon's TestWatchHostileNesting...).
// Before them, 520,000 nested parentheses killed each with a stack overflow.
func TestHostileNestingRefusedByEveryCommand(t *testing.T) {
	t.Parallel()
	n := 520000
	hostile := "rules:\n  - name: d\n    when: '" + strings.Repeat("(", n) + "true" + strings.Repeat(")", n) + "'\n    reply: hi\n"
	cfg, db := checkWorld(t, hostile, "")
	dir := filepath.Dir(cfg)
	rulesPath := filepath.Join(dir, "rules.yaml")
	testutil.WriteFile(t, filepath.Join(dir, "t.yaml"), "rule_files: [rules.yaml]\ntests:\n  - name: x\n    comment: hi\n    expect: {rule: d}\n")
	want := rulesPath + `:3:76: rule "d": when: expression nests brackets more than 64 deep`
	for _, args := range [][]string{
		{"check", "--config", cfg},
		{"test", filepath.Join(dir, "t.yaml")},
		{"explain", "--rules", rulesPath, "--text", "hi"},
	} {
		r := runCLI(t, []string{"AUTOREPLYD_CONFIG=" + filepath.Join(dir, "none.yaml")}, args...)
		if r.code != 1 || !strings.Contains(r.stderr+r.stdout, want) {
			t.Errorf("%s: exit %d, want 1 and %q\nstdout: %.300s\nstderr: %.300s", args[0], r.code, want, r.stdout, r.stderr)
		}
	}
	assertNoDatabase(t, db)
}

// Without self_uids, check says that unknown sends are not reconciled by the
// text of a reply (anyone could post that text).
func TestCheckWarnsWithoutSelfUIDs(t *testing.T) {
	t.Parallel()
	cfg, _ := checkWorld(t, goodRules, "")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, cfg, strings.Replace(string(data), `    self_uids: ["96818342215"]`+"\n", "", 1))
	r := runCLI(t, nil, "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("check: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "warning: sources.douyin.self_uids is empty") || !strings.Contains(r.stderr, "never reconciled by the text of a reply") {
		t.Errorf("no self_uids warning:\n%s", r.stderr)
	}
}

// A source that watches only videos: check counts them in its OK line, and
// warns when no self_uids keep the source's own answers from being
// answered (its answers to top-level comments come back as replies).
func TestCheckVideoOnlySource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), goodRules)
	cfg := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfg, `database: a.db
rules: rules.yaml
schedule: "@every 1m"
timezone: Asia/Shanghai
listen: ""
sources:
  douyin:
    base_url: http://127.0.0.1:1
    token: jo-token
    responder: kitkot
    videos:
      - aweme_id: "7262080445271772416"
        labels: {campaign: 夏季}
      - {aweme_id: "7251517975340027197", threads: "off"}
responders:
  kitkot:
    base_url: http://127.0.0.1:1/api
    api_key: kk-key
    session_key: kk-session
`)
	if err := os.Chmod(cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want := "config " + cfg + ": OK (1 source(s), 0 thread(s), 2 video(s), 1 responder(s), "; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("stdout:\n%s\nwant a line beginning %q", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "warning: sources.douyin.self_uids is empty") {
		t.Errorf("no self_uids warning for a video-only source:\n%s", r.stderr)
	}
}

// check refuses a drafting rule whose endpoint the config lacks, and warns
// of a drafting rule that sends without a person.
func TestCheckDraftingRules(t *testing.T) {
	t.Parallel()
	rules := `rules:
  - name: product_question
    when: 'text contains "多少钱"'
    draft: {llm: deepseek, prompt: '{{ text }}'}
    approve: false
`
	cfg, _ := checkWorld(t, rules, "")
	r := runCLI(t, nil, "check", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stderr, `rule "product_question": draft.llm "deepseek" is not a configured endpoint (configured: none: add an llm section to the config)`) {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cfg, _ = checkWorld(t, rules, `llm:
  deepseek: {base_url: "https://api.deepseek.com/v1", api_key: sk-made-up-key, model: deepseek-chat}
`)
	r = runCLI(t, nil, "check", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: ") || !strings.Contains(r.stderr, "approve: false sends a model's drafts with no person reading them first") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "sk-made-up-key") {
		t.Fatalf("the key is shown:\n%s%s", r.stdout, r.stderr)
	}
}
