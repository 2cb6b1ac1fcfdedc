package doccheck

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// repoRoot is the directory holding go.mod, found upwards from the test's
// working directory (the package directory).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// skippedDirs are not walked for Markdown files: build output and tools.
var skippedDirs = map[string]bool{"bin": true, "dist": true, "node_modules": true}

// markdownFiles lists every *.md file under root (hidden directories and
// build output left out), as paths relative to root.
func markdownFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || skippedDirs[name]) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".md") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no Markdown files found")
	}
	return out
}

// guideFiles are the guides: README*.md at the root and every Markdown file
// under docs/.
func guideFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for _, f := range markdownFiles(t, root) {
		slash := filepath.ToSlash(f)
		if strings.HasPrefix(slash, "docs/") || (!strings.Contains(slash, "/") && strings.HasPrefix(slash, "README")) {
			out = append(out, f)
		}
	}
	return out
}

// doc is a parsed Markdown file.
type doc struct {
	path string // relative to the repository root
	src  []byte
	root ast.Node
}

var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

func parseFile(t *testing.T, root, rel string) doc {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return parseSource(rel, src)
}

func parseSource(rel string, src []byte) doc {
	return doc{path: rel, src: src, root: md.Parser().Parse(text.NewReader(src))}
}

// line is the 1-based line of the byte offset off in src.
func line(src []byte, off int) int {
	return bytes.Count(src[:off], []byte("\n")) + 1
}

// nodeLine is the line of n: that of its first text segment, found in it or
// its descendants (links and code spans have no lines of their own).
func nodeLine(d doc, n ast.Node) int {
	off := -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || off >= 0 {
			return ast.WalkSkipChildren, nil
		}
		if t, ok := c.(*ast.Text); ok {
			off = t.Segment.Start
			return ast.WalkStop, nil
		}
		if c.Type() == ast.TypeBlock && c.Lines().Len() > 0 {
			off = c.Lines().At(0).Start
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if p := n.Parent(); off < 0 && p != nil {
		return nodeLine(d, p)
	}
	if off < 0 {
		return 0
	}
	return line(d.src, off)
}

// plainText is the text of an inline tree as GitHub renders it: text,
// code span contents, link texts; raw HTML left out.
func plainText(src []byte, n ast.Node) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			b.WriteString(codeSpanText(src, c))
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			b.Write(c.Label(src))
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// codeSpanText is the content of a code span.
func codeSpanText(src []byte, c *ast.CodeSpan) string {
	var b strings.Builder
	for n := c.FirstChild(); n != nil; n = n.NextSibling() {
		switch n := n.(type) {
		case *ast.Text:
			b.Write(n.Segment.Value(src))
		case *ast.String:
			b.Write(n.Value)
		}
	}
	return b.String()
}

// githubAnchor is the anchor GitHub gives a heading of the given text
// (github-slugger): lower case; every character that is not a letter, a
// mark, a digit, a connector punctuation (_), a hyphen or a space removed;
// each space made a hyphen. So "What is guaranteed, and how" is
// "what-is-guaranteed-and-how" and "安装：三种方式" is "安装三种方式".
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.Pc):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors are the anchors of d's headings, duplicates numbered as GitHub
// numbers them (x, x-1, x-2).
func anchors(d doc) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	_ = ast.Walk(d.root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		a := githubAnchor(plainText(d.src, h))
		if k := seen[a]; k > 0 {
			seen[a] = k + 1
			a += "-" + strconv.Itoa(k)
		} else {
			seen[a] = 1
		}
		out[a] = true
		return ast.WalkSkipChildren, nil
	})
	return out
}

// codeBlocks are the fenced code blocks of d whose info string's first word
// is lang, with the line each starts on.
func codeBlocks(d doc, lang string) []block {
	var out []block
	_ = ast.Walk(d.root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		fb, ok := n.(*ast.FencedCodeBlock)
		if !entering || !ok || string(fb.Language(d.src)) != lang {
			return ast.WalkContinue, nil
		}
		var b strings.Builder
		lines := fb.Lines()
		for i := range lines.Len() {
			seg := lines.At(i)
			b.Write(seg.Value(d.src))
		}
		start := 0
		if lines.Len() > 0 {
			start = line(d.src, lines.At(0).Start)
		}
		out = append(out, block{file: d.path, line: start, text: b.String()})
		return ast.WalkSkipChildren, nil
	})
	return out
}

// block is a fenced code block.
type block struct {
	file string
	line int // of its first line of code
	text string
}

// isTableRow tells the GFM table rows (header included).
func isTableRow(n ast.Node) bool {
	switch n.(type) {
	case *east.TableRow, *east.TableHeader:
		return true
	}
	return false
}
