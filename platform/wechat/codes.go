package wechat

import (
	"strconv"

	"github.com/autoreplyd/autoreplyd/platform"
)

// knownCodes are the WeChat errcodes comment/list and the token APIs are
// documented to answer (PLATFORMS.md).
var knownCodes = []int{
	CodeBusy, CodeInvalidCredential, CodeInvalidAppID, CodeInvalidToken,
	CodeInvalidSecret, CodeIPNotWhitelisted, CodeTokenExpired, CodeDailyQuota,
	CodeTooFrequent, CodeAPIUnauthorized, CodeNoCommentPriv, CodeArticleNotFound,
	CodeArticleLimited, CodeArticleLimited2,
}

var _ platform.CodeSource = (*Source)(nil)

// KnownCodes are the errcodes this source's errors may carry that metrics
// label by themselves; any other code is labelled "other", so a made-up or
// echoed code never grows or leaks into the metrics.
func (s *Source) KnownCodes() []string {
	out := make([]string, len(knownCodes))
	for i, c := range knownCodes {
		out[i] = strconv.Itoa(c)
	}
	return out
}
