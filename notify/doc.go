// Package notify tells people about comments that need them: a flagged
// comment, an answer held for approval, and (when a rule asks) one answered
// or skipped. It owns the notification channels (WeCom, DingTalk and Feishu
// group robots, and a generic signed JSON webhook), the text of their
// messages, and the Dispatcher that delivers an outbox of notifications
// reliably: at least once, never again once a channel accepted one, within
// each channel's rate (batching what is above it into one digest), with a
// failing or hanging channel delaying no other channel and nothing else of
// the daemon.
//
// Comment text and nicknames are a stranger's words: every message bounds
// them, removes control and direction characters and disarms mentions
// (@all, <@userid>, <at user_id="all">) and links before they reach a group
// chat. Robot webhook URLs hold their keys and are secrets, as are the
// signing secrets: neither appears in any error, log line or state this
// package produces.
package notify
