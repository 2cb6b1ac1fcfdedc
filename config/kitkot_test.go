package config

import (
	"testing"

	"github.com/autoreplyd/autoreplyd/platform/kitkot"
)

func TestKitkotMaxLength(t *testing.T) {
	c := mustLoad(t, minimal)
	if got := resps(c).Kitkot.MaxLength; got != 150 || kitkot.DefaultMaxLength != 150 {
		t.Errorf("default kitkot.max_length = %d, want 150", got)
	}
	c = mustLoad(t, with(t, "responders: {kitkot: {max_length: 80}}\n"))
	if got := resps(c).Kitkot.MaxLength; got != 80 {
		t.Errorf("kitkot.max_length = %d, want 80", got)
	}
	c = mustLoad(t, minimal, "AUTOREPLYD_RESPONDERS__KITKOT__MAX_LENGTH=100")
	if got := resps(c).Kitkot.MaxLength; got != 100 {
		t.Errorf("env kitkot.max_length = %d, want 100", got)
	}
	for _, tt := range []struct{ extra, want string }{
		{"responders: {kitkot: {max_length: 0}}\n", "responders.kitkot.max_length: must be at least 1"},
		{"responders: {kitkot: {max_length: -5}}\n", "responders.kitkot.max_length: must be at least 1"},
		{"responders: {kitkot: {max_length: long}}\n", "responders.kitkot.max_length"},
	} {
		wantContains(t, loadErr(t, with(t, tt.extra)), tt.want)
	}
}
