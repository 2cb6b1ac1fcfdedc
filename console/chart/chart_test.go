package chart

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden SVGs in testdata")

func TestBarsGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		series []int
		labels []string
		w, h   int
	}{
		{"hours", []int{0, 3, 1, 12, 6, 0}, []string{"08:00", "09:00", "10:00", "11:00", "12:00", "13:00"}, 60, 20},
		{"days-default-size", []int{40, 25, 0, 7, 33, 51, 18}, []string{"周一", "周二", "周三", "周四", "周五", "周六", "周日"}, 0, 0},
		{"empty", nil, nil, 30, 10},
		{"all-zero", []int{0, 0, 0}, []string{"a", "b", "c"}, 30, 10},
		// A label that looks like markup is escaped; the missing one is
		// the position; a negative value is drawn as 0.
		{"hostile-labels", []int{2, -5, 1}, []string{`<script>alert("x")</script> 🎉`, "a&b"}, 30, 10},
		// More bars than pixels pairs: bars touch.
		{"dense", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, nil, 15, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := string(Bars(tc.series, tc.labels, tc.w, tc.h))
			path := filepath.Join("testdata", tc.name+".svg")
			if *update {
				if err := os.WriteFile(path, []byte(got+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got+"\n" != string(want) {
				t.Errorf("Bars(%v) =\n%s\nwant (%s)\n%s", tc.series, got, path, want)
			}
		})
	}
}

// svg is what the checks below read of a chart.
type svg struct {
	Role  string `xml:"role,attr"`
	Title string `xml:"title"`
	Rects []struct {
		Height string `xml:"height,attr"`
		Title  string `xml:"title"`
	} `xml:"rect"`
	Script []struct{} `xml:"script"`
}

func parse(t *testing.T, s string) svg {
	t.Helper()
	var v svg
	if err := xml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not well-formed SVG: %v\n%s", err, s)
	}
	return v
}

func TestBarsAccessibleAndEscaped(t *testing.T) {
	t.Parallel()
	labels := []string{`</title><script>alert(1)</script>`, "价格 😀", `"quoted" & 'single'`}
	out := string(Bars([]int{5, 0, 10}, labels, 90, 30))
	if strings.Contains(out, "<script") {
		t.Fatalf("a label's markup reached the SVG: %s", out)
	}
	v := parse(t, out)
	if v.Role != "img" {
		t.Errorf("role = %q, want img", v.Role)
	}
	// The title names every bar, the labels read back as written: escaped,
	// not altered.
	want := labels[0] + ": 5, " + labels[1] + ": 0, " + labels[2] + ": 10"
	if v.Title != want {
		t.Errorf("title = %q, want %q", v.Title, want)
	}
	if len(v.Rects) != 2 {
		t.Fatalf("%d bars drawn, want 2 (the zero is not drawn)", len(v.Rects))
	}
	if v.Rects[0].Title != labels[0]+": 5" || v.Rects[1].Title != labels[2]+": 10" {
		t.Errorf("bar titles %q, %q", v.Rects[0].Title, v.Rects[1].Title)
	}
	// The largest bar fills the height; the one half its value half of it.
	if v.Rects[1].Height != "30" || v.Rects[0].Height != "15" {
		t.Errorf("bar heights %s, %s; want 15, 30", v.Rects[0].Height, v.Rects[1].Height)
	}
}

func TestBarsSmallValueStillShows(t *testing.T) {
	t.Parallel()
	v := parse(t, string(Bars([]int{1, 100000}, nil, 20, 10)))
	if len(v.Rects) != 2 || v.Rects[0].Height != "1" {
		t.Fatalf("bars %+v: the 1 beside 100000 should be a pixel tall", v.Rects)
	}
}
