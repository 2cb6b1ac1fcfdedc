// Package chart draws the console's small charts as inline SVG, rendered on
// the server: no script, no style sheet, nothing fetched. A chart holds
// numbers and, escaped, the labels its caller passes; it takes its colour
// from the page (currentColor), so the page's own CSS themes it.
package chart

import (
	"html"
	"html/template"
	"strconv"
	"strings"
)

// Default size of a chart whose width or height is not positive, in CSS
// pixels: a spark line beside a table row.
const (
	DefaultWidth  = 120
	DefaultHeight = 24
)

// gap is the space between two bars, in pixels; bars narrower than two gaps
// touch instead, so a long series still reads as a shape.
const gap = 1.0

// Bars returns an SVG bar chart of series, w by h pixels: one bar per value,
// scaled so the largest fills the height (negative values count as 0). It
// is an image to assistive technology (role="img") named by its <title>,
// which lists every label with its value; each bar also carries its own
// <title>, which browsers show on hover. labels[i] names series[i]; a
// missing label is the bar's position, counted from 1. Labels are escaped,
// so the result is safe to put in a page as is.
func Bars(series []int, labels []string, w, h int) template.HTML {
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	peak := 0
	for _, v := range series {
		peak = max(peak, v)
	}
	label := func(i int) string {
		if i < len(labels) {
			return html.EscapeString(labels[i])
		}
		return strconv.Itoa(i + 1)
	}

	var b strings.Builder
	ws, hs := strconv.Itoa(w), strconv.Itoa(h)
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="` + ws +
		`" height="` + hs + `" viewBox="0 0 ` + ws + ` ` + hs + `"><title>`)
	for i, v := range series {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(label(i) + ": " + strconv.Itoa(max(v, 0)))
	}
	b.WriteString(`</title>`)

	if n := len(series); n > 0 {
		space := gap
		if float64(w)/float64(n) < 2*gap {
			space = 0
		}
		bw := (float64(w) - space*float64(n-1)) / float64(n)
		for i, v := range series {
			if v <= 0 {
				continue
			}
			// The largest bar fills the height; any non-zero bar is at
			// least a pixel tall, so a single claim still shows.
			bh := max(float64(h)*float64(v)/float64(peak), 1)
			x := float64(i) * (bw + space)
			b.WriteString(`<rect x="` + num(x) + `" y="` + num(float64(h)-bh) + `" width="` + num(bw) +
				`" height="` + num(bh) + `" fill="currentColor"><title>` + label(i) + ": " + strconv.Itoa(v) +
				`</title></rect>`)
		}
	}
	// The baseline: an empty chart still shows where the bars would stand.
	b.WriteString(`<line x1="0" y1="` + hs + `" x2="` + ws + `" y2="` + hs +
		`" stroke="currentColor" stroke-opacity="0.4"/></svg>`)
	//nolint:gosec // G203: built above from numbers and html.EscapeString'd labels only
	return template.HTML(b.String())
}

// num writes a coordinate with at most two decimals, trailing zeros cut:
// short, and stable for golden tests.
func num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
