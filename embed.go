// Package autoreplyd holds files embedded in the binary; the program lives
// in cmd/autoreplyd and the packages beside this file.
package autoreplyd

import _ "embed"

// ExampleRules is rules.example.yaml, which `autoreplyd demo` runs with.
//
//go:embed rules.example.yaml
var ExampleRules []byte
