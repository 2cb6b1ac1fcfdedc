package doccheck

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/yuin/goldmark/ast"
	"go.yaml.in/yaml/v3"
)

// The rule of TestConfigKeysDocumented.
//
// Keys. Every key of config.example.yaml is a dotted path from the top:
// `sources.douyin.token_file`. The items of a list add `[]` to the list's
// key (`sources.douyin.threads[].comment_id`). The keys under a `labels`
// mapping are the operator's own words, not config keys: `labels` is a key,
// what it holds is not. Commented-out sections count too (the example ships
// TikTok, WeChat and Weibo commented out): a run of comment lines with their
// `#` in one column is uncommented (the `#` and one space after it removed)
// and its longest tail that starts at the run's first line or after a line
// ending a sentence (in `.` or `:`) and parses as a YAML mapping whose keys
// are all strings of lower case letters, digits and `_` is a commented-out
// section: its keys are taken, under the parent of the active key just
// above in the same column (or under the enclosing key). Leading prose
// lines of a run ("# TikTok comment threads ...") are what the tail leaves
// out. The uncommented text is searched the same way for further
// commented-out keys (Weibo's v1 credentials).
//
// Mentions. A guide (README*.md at the root, every Markdown file under
// docs/) mentions a key through an inline code span, in one of two forms:
//
//   - a dotted path, `sources.douyin.max_pages`, which names that key; `*`
//     stands for any one segment (`sources.*.rate`); a list's items
//     (`sources.douyin.threads[]`) name the list as well;
//   - a bare key, `burst`, which names that key under the context: the
//     parent of the last dotted path earlier in the same paragraph, list
//     item, heading or table row (`sources.wechat.rate`, `burst` names
//     sources.wechat.burst; after a list path such as
//     `sources.douyin.threads[]` the context is the list's items), else the
//     dotted path of the nearest heading above that has one (a heading
//     "`sources.tiktok`" makes `timeout` in its table rows name
//     sources.tiktok.timeout), until a heading of the same or a higher
//     level without one; with neither, the top-level key of that name
//     (`database`).
//
// Code blocks do not count: an example is not a reference.

// configKey is a key of config.example.yaml.
type configKey struct {
	path      string
	line      int
	commented bool
}

var (
	keyWord  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	pathSpan = regexp.MustCompile(`^(?:[a-z0-9_]+(?:\[\])?|\*)(?:\.(?:[a-z0-9_]+(?:\[\])?|\*))+$`)
	leafSpan = regexp.MustCompile(`^[a-z][a-z0-9_]*(?:\[\])?$`)
	comment  = regexp.MustCompile(`^(\s*)#(.*)$`)
)

// yamlKey is a key found in a parsed YAML text, with its position there.
type yamlKey struct {
	path      string
	line, col int // 1-based line, 0-based column
}

// configKeys returns the keys of a config file's text (see the rule above).
func configKeys(src string) ([]configKey, error) {
	var out []configKey
	err := collectKeys(src, "", 0, false, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].line < out[j].line })
	return out, err
}

// collectKeys adds the keys of src, a YAML text whose first line is line
// offset+1 of the file, under prefix.
func collectKeys(src, prefix string, offset int, commented bool, out *[]configKey) error {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		return err
	}
	var keys []yamlKey
	if len(root.Content) > 0 {
		walkKeys(root.Content[0], prefix, &keys)
	}
	for _, k := range keys {
		*out = append(*out, configKey{path: k.path, line: k.line + offset, commented: commented})
	}
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); {
		m := comment.FindStringSubmatch(lines[i])
		if m == nil {
			i++
			continue
		}
		col := len(m[1])
		j := i
		var body []string
		for ; j < len(lines); j++ {
			mj := comment.FindStringSubmatch(lines[j])
			if mj == nil || len(mj[1]) != col {
				break
			}
			body = append(body, strings.TrimPrefix(mj[2], " "))
		}
		for start := range body {
			if start > 0 && !endsSentence(body[start-1]) {
				continue
			}
			tail := strings.Join(body[start:], "\n")
			if !isKeyMapping(tail) {
				continue
			}
			parent := commentParent(keys, i+1, col, prefix)
			if err := collectKeys(tail, parent, offset+i+start, true, out); err != nil {
				return err
			}
			break
		}
		i = j
	}
	return nil
}

// walkKeys adds the keys of a YAML node under prefix.
func walkKeys(n *yaml.Node, prefix string, out *[]yamlKey) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			*out = append(*out, yamlKey{path: p, line: k.Line, col: k.Column - 1})
			if k.Value == "labels" {
				continue // the operator's own keys
			}
			switch v.Kind {
			case yaml.MappingNode:
				walkKeys(v, p, out)
			case yaml.SequenceNode:
				for _, item := range v.Content {
					walkKeys(item, p+"[]", out)
				}
			}
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			walkKeys(item, prefix+"[]", out)
		}
	}
}

// isKeyMapping tells a text that parses as a non-empty YAML mapping whose
// keys all look like config keys.
func isKeyMapping(s string) bool {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(s), &root); err != nil || len(root.Content) == 0 {
		return false
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) == 0 {
		return false
	}
	for i := 0; i < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Tag != "!!str" || !keyWord.MatchString(k.Value) {
			return false
		}
	}
	return true
}

// endsSentence tells a comment line that ends a sentence (or introduces
// what follows): only after one may a commented-out section start.
func endsSentence(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, ":")
}

// commentParent is the path the keys of a commented-out section at column
// col, starting on line, belong under: the parent of the last key above it
// in the same column, else the last key above it in a smaller column, else
// prefix.
func commentParent(keys []yamlKey, line, col int, prefix string) string {
	var sibling, enclosing *yamlKey
	for i := range keys {
		k := &keys[i]
		if k.line >= line {
			break
		}
		switch {
		case k.col == col:
			sibling = k
		case k.col < col:
			enclosing = k
			sibling = nil
		}
	}
	switch {
	case sibling != nil:
		return parentPath(sibling.path)
	case enclosing != nil:
		return enclosing.path
	}
	return prefix
}

// parentPath is p without its last segment.
func parentPath(p string) string {
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}

// mentions returns the key patterns a guide mentions (see the rule above).
func mentions(d doc) []string {
	var out []string
	section := ""     // the nearest heading's path
	sectionLevel := 0 // its level
	var visit func(n ast.Node)
	inBlock := func(n ast.Node, heading bool) {
		context := section
		var spans []string
		_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
			if cs, ok := c.(*ast.CodeSpan); ok && entering {
				spans = append(spans, strings.TrimSpace(codeSpanText(d.src, cs)))
				return ast.WalkSkipChildren, nil
			}
			return ast.WalkContinue, nil
		})
		headingPath := ""
		for _, s := range spans {
			switch {
			case pathSpan.MatchString(s):
				out = append(out, s)
				if headingPath == "" {
					headingPath = s
				}
				if strings.HasSuffix(s, "[]") {
					context = s
				} else {
					context = parentPath(s)
				}
			case leafSpan.MatchString(s) && context != "":
				out = append(out, context+"."+s)
			case leafSpan.MatchString(s):
				out = append(out, s) // a top-level key
			}
		}
		if h, ok := n.(*ast.Heading); ok && heading {
			if headingPath != "" {
				section, sectionLevel = headingPath, h.Level
			} else if h.Level <= sectionLevel {
				section, sectionLevel = "", 0
			}
		}
	}
	visit = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c.(type) {
			case *ast.Heading:
				inBlock(c, true)
			case *ast.Paragraph, *ast.TextBlock:
				inBlock(c, false)
			default:
				if isTableRow(c) {
					inBlock(c, false)
					continue
				}
				visit(c)
			}
		}
	}
	visit(d.root)
	return out
}

// matchKey tells whether the mention pattern names the key path. A list's
// items (`sources.douyin.threads[]`) name the list too.
func matchKey(pattern, path string) bool {
	if !strings.HasSuffix(path, "[]") {
		pattern = strings.TrimSuffix(pattern, "[]")
	}
	ps, ks := strings.Split(pattern, "."), strings.Split(path, ".")
	if len(ps) != len(ks) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != ks[i] {
			return false
		}
	}
	return true
}

// TestConfigKeysDocumented fails on a key of config.example.yaml that no
// guide mentions.
func TestConfigKeysDocumented(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := configKeys(string(src))
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	var patterns []string
	for _, f := range guideFiles(t, root) {
		patterns = append(patterns, mentions(parseFile(t, root, f))...)
	}
	for _, k := range keys {
		found := false
		for _, p := range patterns {
			if matchKey(p, k.path) {
				found = true
				break
			}
		}
		if !found {
			how := ""
			if k.commented {
				how = " (commented out)"
			}
			t.Errorf("config.example.yaml:%d: key %s%s is in no guide: add `%s` to the config reference of docs/operator.md (or its platform page)",
				k.line, k.path, how, k.path)
		}
	}
	t.Logf("%d keys, %d mentions", len(keys), len(patterns))
}

// TestConfigKeys pins how keys are read from a config, commented-out
// sections included.
func TestConfigKeys(t *testing.T) {
	t.Parallel()
	src := `# Prose: with a colon, not a key.
database: x.db
log:
  level: info   # debug | info
sources:
  douyin:
    token_file: t
    threads:
      - comment_id: "1"
        labels: {campaign: spring, 商品: 杯}
  # TikTok, commented out.
  # tiktok:
  #   api_key_file: k
  #   threads:
  #     - {comment_id: "2", aweme_id: "3"}
responders:
  kitkot:
    rate: 20/m
  # weibo:
  #   api: v2
  #   # v1: statuses/reply with basic auth:
  #   # username: u
  #   # password_file: p
  #   timeout: 30s
`
	keys, err := configKeys(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		s := k.path
		if k.commented {
			s += " #"
		}
		got = append(got, s)
	}
	want := []string{
		"database", "log", "log.level", "sources", "sources.douyin", "sources.douyin.token_file",
		"sources.douyin.threads", "sources.douyin.threads[].comment_id", "sources.douyin.threads[].labels",
		"sources.tiktok #", "sources.tiktok.api_key_file #", "sources.tiktok.threads #",
		"sources.tiktok.threads[].comment_id #", "sources.tiktok.threads[].aweme_id #",
		"responders", "responders.kitkot", "responders.kitkot.rate",
		"responders.weibo #", "responders.weibo.api #", "responders.weibo.username #",
		"responders.weibo.password_file #", "responders.weibo.timeout #",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("keys:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestMentions pins the mention rule.
func TestMentions(t *testing.T) {
	t.Parallel()
	src := "# Guide\n\n" +
		"Set `sources.douyin.token` or `token_file`; also `log.level`.\n\n" +
		"## `sources.tiktok`\n\n" +
		"| key | meaning |\n|---|---|\n" +
		"| `timeout` | per call |\n" +
		"| `sources.*.rate`, `burst` | pacing |\n" +
		"| `sources.tiktok.threads[]` | `comment_id`, `aweme_id` |\n\n" +
		"### Details\n\n- `max_pages` caps pages\n\n" +
		"## Other\n\n`stray` has no context. `not a key`\n\n" +
		"```yaml\nsources: {weibo: {access_token_file: x}}\n```\n"
	got := mentions(parseSource("g.md", []byte(src)))
	want := []string{
		"sources.douyin.token", "sources.douyin.token_file", "log.level",
		"sources.tiktok", "sources.tiktok.timeout", "sources.*.rate", "sources.*.burst",
		"sources.tiktok.threads[]", "sources.tiktok.threads[].comment_id", "sources.tiktok.threads[].aweme_id",
		"sources.tiktok.max_pages", "stray",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mentions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tc := range []struct {
		pattern, key string
		want         bool
	}{
		{"sources.*.rate", "sources.weibo.rate", true},
		{"sources.*.rate", "responders.kitkot.rate", false},
		{"sources.douyin.threads[].labels", "sources.douyin.threads[].labels", true},
		{"sources.douyin", "sources.douyin.token", false},
		{"sources.douyin.threads[]", "sources.douyin.threads", true},
		{"sources.douyin.threads", "sources.douyin.threads[].comment_id", false},
	} {
		if got := matchKey(tc.pattern, tc.key); got != tc.want {
			t.Errorf("matchKey(%q, %q) = %v, want %v", tc.pattern, tc.key, got, tc.want)
		}
	}
}
