package douyin

import (
	"slices"

	"github.com/autoreplyd/autoreplyd/platform"
)

// knownCodes are JustOneAPI's documented business codes (0 is success):
// 100 invalid token, 300 API invalid, 301 collection failed, 302 rate limit,
// 303 daily quota, 400 invalid parameters, 500 internal error, 600
// permission denied, 601 insufficient balance, 602 spend cap reached.
var knownCodes = []string{"100", "300", "301", "302", "303", "400", "500", "600", "601", "602"}

var _ platform.CodeSource = (*Source)(nil)

// KnownCodes are the business codes this source's errors may carry that
// metrics label by themselves; any other code the platform answers is
// labelled "other", so a made-up or echoed code never grows or leaks into
// the metrics.
func (s *Source) KnownCodes() []string { return slices.Clone(knownCodes) }
