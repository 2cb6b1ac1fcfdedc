package kitkot

import (
	"slices"

	"github.com/autoreplyd/autoreplyd/platform"
)

// knownCodes are the refusals this source acts on or expects (an error's
// code is the HTTP status, or the code in the answer's body): 400 bad
// request or unknown comment, 401/402/403 key refused or no credit, 404,
// 429 too many requests, and the 5xx a proxy answers.
var knownCodes = []string{"400", "401", "402", "403", "404", "429", "500", "502", "503", "504"}

var _ platform.CodeSource = (*Source)(nil)

// KnownCodes are the codes this source's errors may carry that metrics
// label by themselves; any other code (kitkot's body code is free-form) is
// labelled "other", so a made-up or echoed code never grows or leaks into
// the metrics.
func (s *Source) KnownCodes() []string { return slices.Clone(knownCodes) }
