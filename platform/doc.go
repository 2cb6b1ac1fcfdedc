// Package platform is the contract between the poller and the platform
// APIs: a Source lists new comments of watched threads, a Responder posts
// one reply and says whether a failure may be retried (platform.go). Beside
// it are the helpers every source shares: base URL and thread checks
// (check.go), plausible comment times (commenttime.go), lenient JSON numbers
// (lenient.go), a per-source call rate limit (limit.go) and staggered
// periodic rescans (rescan.go); and the check of a reply's text that a
// responder's Send and its TextChecker share (text.go). Each platform API is
// a package of its own below this one: douyin, kitkot, wechat, weibo.
package platform
