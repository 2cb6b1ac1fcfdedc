package doccheck

import (
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yuin/goldmark/ast"
)

// link is one link or image destination of a Markdown file.
type link struct {
	line int
	dest string
}

// links lists d's link and image destinations (inline and reference style;
// autolinks are absolute URLs and are left out).
func links(d doc) []link {
	var out []link
	_ = ast.Walk(d.root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			out = append(out, link{line: nodeLine(d, n), dest: string(n.Destination)})
		case *ast.Image:
			out = append(out, link{line: nodeLine(d, n), dest: string(n.Destination)})
		}
		return ast.WalkContinue, nil
	})
	return out
}

// brokenLink says what is wrong with dest, a link of the Markdown file from
// (relative to root), or "" when nothing is. A destination with a scheme
// (https:, mailto:) or starting with // is external and not checked. A path
// starting with / is relative to the repository root, as on GitHub; any
// other is relative to from's directory. The target must exist (a file or
// a directory). A #fragment into a Markdown file (or into from itself, for
// a bare #fragment) must be the GitHub anchor of one of its headings.
func brokenLink(root, from, dest string, anchorsOf func(rel string) map[string]bool) string {
	u, err := url.Parse(dest)
	if err != nil {
		return "unparsable destination: " + err.Error()
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(dest, "//") {
		return ""
	}
	target := filepath.ToSlash(from)
	if u.Path != "" {
		if strings.HasPrefix(u.Path, "/") {
			target = path.Clean(strings.TrimPrefix(u.Path, "/"))
		} else {
			target = path.Clean(path.Join(path.Dir(filepath.ToSlash(from)), u.Path))
		}
		if target == ".." || strings.HasPrefix(target, "../") {
			return "leaves the repository"
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err != nil {
			return "no such file or directory: " + target
		}
	}
	if u.Fragment == "" || !strings.HasSuffix(target, ".md") {
		return ""
	}
	if !anchorsOf(target)[u.Fragment] {
		return "no heading with the anchor #" + u.Fragment + " in " + target
	}
	return ""
}

// TestMarkdownLinks checks every relative link of every Markdown file of the
// repository (see brokenLink for the rule).
func TestMarkdownLinks(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	parsed := map[string]doc{}
	get := func(rel string) doc {
		if d, ok := parsed[rel]; ok {
			return d
		}
		d := parseFile(t, root, filepath.FromSlash(rel))
		parsed[rel] = d
		return d
	}
	anchorsOf := func(rel string) map[string]bool { return anchors(get(rel)) }
	files := markdownFiles(t, root)
	checked := 0
	for _, f := range files {
		d := get(filepath.ToSlash(f))
		for _, l := range links(d) {
			checked++
			if why := brokenLink(root, f, l.dest, anchorsOf); why != "" {
				t.Errorf("%s:%d: broken link (%s): %s", filepath.ToSlash(f), l.line, l.dest, why)
			}
		}
	}
	t.Logf("%d links in %d Markdown files", checked, len(files))
}

// TestBrokenLink pins the link rule on a made-up tree.
func TestBrokenLink(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# autoreplyd\n\n## Install\n")
	write("docs/operator.md", "# Operator guide\n\n## 安装：三种方式\n\n## Install\n\n## Install\n")
	write("config.example.yaml", "x: 1\n")
	anchorsOf := func(rel string) map[string]bool {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return anchors(parseSource(rel, src))
	}
	for _, tc := range []struct {
		from, dest string
		broken     bool
	}{
		{"README.md", "docs/operator.md", false},
		{"README.md", "docs/operator.md#install-1", false},
		{"README.md", "docs/operator.md#install-2", true},
		{"README.md", "docs/operator.md#安装三种方式", false},
		{"README.md", "docs/operator.md#%E5%AE%89%E8%A3%85%E4%B8%89%E7%A7%8D%E6%96%B9%E5%BC%8F", false},
		{"README.md", "docs/operator.md#安装", true},
		{"README.md", "docs/guide.md", true},
		{"README.md", "#install", false},
		{"README.md", "#installation", true},
		{"docs/operator.md", "../config.example.yaml", false},
		{"docs/operator.md", "../config.example.yaml#L3", false},
		{"docs/operator.md", "config.example.yaml", true},
		{"docs/operator.md", "/config.example.yaml", false},
		{"docs/operator.md", "../README.md#install", false},
		{"docs/operator.md", "../../outside.md", true},
		{"docs/operator.md", "../docs/", false},
		{"docs/operator.md", "https://example.com/missing.md#nowhere", false},
		{"docs/operator.md", "mailto:someone@example.com", false},
	} {
		why := brokenLink(root, tc.from, tc.dest, anchorsOf)
		if (why != "") != tc.broken {
			t.Errorf("%s -> %s: broken = %q, want broken %v", tc.from, tc.dest, why, tc.broken)
		}
	}
}

// TestGithubAnchor pins the anchors GitHub gives headings.
func TestGithubAnchor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ md, want string }{
		{"## What is guaranteed, and how", "what-is-guaranteed-and-how"},
		{"### `autoreplyd stats`: counts by day, rule and status", "autoreplyd-stats-counts-by-day-rule-and-status"},
		{"## Rehearse a config: `autoreplyd simulate`", "rehearse-a-config-autoreplyd-simulate"},
		{"## 安装：三种方式", "安装三种方式"},
		{"## 常见问题（FAQ）", "常见问题faq"},
		{"## `sources.douyin` / 抖音", "sourcesdouyin--抖音"},
		{"## The HTTP listener", "the-http-listener"},
		{"## Logs: `SOURCE STOPPED ...`", "logs-source-stopped-"},
		{"## [Linked](x.md) *emphasis* and_snake", "linked-emphasis-and_snake"},
	} {
		d := parseSource("x.md", []byte(tc.md+"\n"))
		got := anchors(d)
		if !got[tc.want] || len(got) != 1 {
			t.Errorf("%q: anchors %v, want %q", tc.md, got, tc.want)
		}
	}
}
