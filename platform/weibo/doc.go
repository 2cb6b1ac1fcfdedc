// Package weibo is the Weibo open API: the source that lists the comments of
// watched weibos (source.go) and the responder that answers them, through
// the v2 or the v1 reply API (responder.go, length.go).
package weibo
