// Package conformance is the suite every platform package passes: each
// source and each responder, pointed at its loopback imitation (package
// simulator), meets every way an exchange fails (refused, reset before and
// after the request was written, timeouts before and after the platform
// acted, HTTP 4xx and 5xx, broken JSON, each of the platform's documented
// business codes), run through the real engine. For each it checks the
// failure's kind (a source's action; a responder's retryable, unknown or
// permanent, and its reason) and that no configured secret, in any of the
// spellings redact.Forms lists, reaches an error, a log line, the database
// or the metrics.
//
// The suite is its tests (conformance_test.go holds the harness,
// platforms_test.go one entry per source and per responder): a new platform
// adds its entries there.
package conformance
