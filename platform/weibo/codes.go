package weibo

import (
	"slices"

	"github.com/autoreplyd/autoreplyd/platform"
)

// knownCodes are the Weibo error codes comments/show is known to answer and
// this source acts on: 10001/10002/10009/10010 system errors, 10008 bad
// parameter, 10022-10024 and 20016 rate limits, 20101 weibo gone, and the
// 213xx token and app refusals (21301, 21314-21317, 21321, 21327, 21332).
var knownCodes = []string{
	"10001", "10002", "10008", "10009", "10010", "10022", "10023", "10024", "20016", "20101",
	"21301", "21314", "21315", "21316", "21317", "21321", "21327", "21332",
}

var _ platform.CodeSource = (*Source)(nil)

// KnownCodes are the codes this source's errors may carry that metrics
// label by themselves; any other code is labelled "other", so a made-up or
// echoed code never grows or leaks into the metrics.
func (s *Source) KnownCodes() []string { return slices.Clone(knownCodes) }
