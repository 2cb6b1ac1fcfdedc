package douyin

import (
	"testing"

	"github.com/autoreplyd/autoreplyd/platform"
)

// full_rescan_every: 0 in the config turns periodic rescans off; the
// source is not given its default of 60 instead.
func TestSectionRescanZeroMeansNever(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ config, want int }{{0, -1}, {60, 60}, {7, 7}} {
		sec := NewSection()
		sec.Token, sec.FullRescanEvery = "t", tc.config
		src, err := newFromSection(sec, &platform.Env{})
		if err != nil {
			t.Fatal(err)
		}
		if got := src.(*Source).cfg.FullRescanEvery; got != tc.want {
			t.Errorf("full_rescan_every %d: the source rescans every %d, want %d", tc.config, got, tc.want)
		}
	}
}
