package daemon

import (
	"testing"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/platform"
)

// sourceOf is a config source section named name, of type typ, holding sec
// as if decoded from a file (tests that need no file build configs so).
func sourceOf(t *testing.T, typ, name string, sec platform.SourceSection) *config.Source {
	t.Helper()
	spec, ok := platform.Lookup(typ)
	if !ok || spec.Source == nil {
		t.Fatalf("no source type %q", typ)
	}
	sec.Base().Type = typ
	return &config.Source{Name: name, Type: typ, Spec: spec.Source, Section: sec}
}

// responderOf is sourceOf for a responder section.
func responderOf(t *testing.T, typ, name string, sec platform.ResponderSection) *config.Responder {
	t.Helper()
	spec, ok := platform.Lookup(typ)
	if !ok || spec.Responder == nil {
		t.Fatalf("no responder type %q", typ)
	}
	sec.Base().Type = typ
	return &config.Responder{Name: name, Type: typ, Spec: spec.Responder, Section: sec}
}
