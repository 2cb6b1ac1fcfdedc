package main

import "testing"

func TestMemoryLimit(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	if limit, ok := memoryLimit(none); !ok || limit != 150<<20 {
		t.Errorf("without GOMEMLIMIT: %d, %v; want 150 MiB", limit, ok)
	}
	for _, v := range []string{"512MiB", "off", ""} {
		set := func(k string) (string, bool) { return v, k == "GOMEMLIMIT" }
		if _, ok := memoryLimit(set); ok {
			t.Errorf("GOMEMLIMIT=%q: main would replace the operator's limit", v)
		}
	}
}
