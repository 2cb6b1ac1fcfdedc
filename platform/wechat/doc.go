// Package wechat is the WeChat Official Account API: one client per app
// (access tokens and the JSON call convention, client.go), the source that
// lists the comments of watched articles (source.go) and the responder that
// answers them (responder.go). A source and a responder of one app share
// the app's client, so that one token refresher serves both.
package wechat
