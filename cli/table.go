package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
)

// writeCells prints table (a header row, then rows) in aligned columns two
// spaces apart, measuring widths in terminal cells. Columns listed in right
// (numbers) are aligned right; the others left, without trailing blanks.
// Every cell is escaped (termesc): ids, codes and reasons come from the
// platforms, and a control character or bidi override in one must neither
// reach the terminal nor break the columns.
func writeCells(w io.Writer, table [][]string, right ...int) {
	for _, row := range table {
		termesc.Strings(row)
	}
	var widths []int
	for _, row := range table {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], cells(cell))
		}
	}
	var b strings.Builder
	for _, row := range table {
		b.Reset()
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-cells(cell))
			if i > 0 {
				b.WriteString("  ")
			}
			if slices.Contains(right, i) {
				b.WriteString(pad + cell)
			} else {
				b.WriteString(cell + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cells is the width of s in terminal cells: CJK and most emoji take two.
func cells(s string) int {
	n := 0
	for _, r := range s {
		n += runeCells(r)
	}
	return n
}

func runeCells(r rune) int {
	switch {
	case r == '\uFE0F':
		return 1 // emoji presentation: the symbol before it shows two cells wide
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0 // combining marks, zero-width space and joiner
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// clip shortens s to at most n cells, on one line, marking a cut with "…".
// Control characters (terminal escapes in untrusted text) are dropped.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if cells(s) <= n {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		c := runeCells(r)
		if used+c > n-1 {
			break
		}
		b.WriteRune(r)
		used += c
	}
	return b.String() + "…"
}
