// Package kitkot is the kitkot API (a third-party TikTok and Douyin API):
// the TikTok source, which lists the replies of watched TikTok comment
// threads (tiktok.go, tiktok_client.go), and the responder that answers on
// TikTok and on Douyin through kitkot's aweme reply endpoint (responder.go,
// refusal.go). Each is registered under its own section type: "tiktok" for
// the source, "kitkot" for the responder.
package kitkot
