package rules

import (
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// Env is what a rule sees of a comment: the names usable in `when` and in
// the {{ }} segments of replies are its expr tags.
type Env struct {
	Platform    string            `expr:"platform"`      // "douyin", "tiktok", "wechat", "weibo"
	ID          string            `expr:"id"`            // the comment's id
	Thread      string            `expr:"thread"`        // the watched thread's id
	Post        string            `expr:"post"`          // the video/article/weibo
	Text        string            `expr:"text"`          // the comment's text
	CreatedAt   time.Time         `expr:"created_at"`    // in the configured timezone
	Age         time.Duration     `expr:"age"`           // now - created_at
	Likes       int               `expr:"likes"`         // likes of the comment
	Level       int               `expr:"level"`         // the platform's nesting level
	ReplyTo     string            `expr:"reply_to"`      // id of the reply it answers; "0" for the root
	ReplyToUser string            `expr:"reply_to_user"` // nickname it answers, when known
	AuthorLiked bool              `expr:"author_liked"`  // the post's author liked it
	User        EnvUser           `expr:"user"`
	Labels      map[string]string `expr:"labels"` // the watched thread's labels
	Now         time.Time         `expr:"now"`    // evaluation time, in the configured timezone
}

// EnvUser is the comment's author, as `user` in rules.
type EnvUser struct {
	UID      string `expr:"uid"`
	Nickname string `expr:"nickname"`
	UniqueID string `expr:"unique_id"`
	Region   string `expr:"region"`
	Verified bool   `expr:"verified"`
}

// NewEnv builds the environment of comment c evaluated at now, with times
// in loc (nil means UTC).
func NewEnv(c model.Comment, now time.Time, loc *time.Location) Env {
	if loc == nil {
		loc = time.UTC
	}
	labels := c.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return Env{
		Platform:    c.Platform,
		ID:          c.ID,
		Thread:      c.ThreadID,
		Post:        c.PostID,
		Text:        c.Text,
		CreatedAt:   c.CreatedAt.In(loc),
		Age:         now.Sub(c.CreatedAt),
		Likes:       int(c.Likes),
		Level:       int(c.Level),
		ReplyTo:     c.ReplyToID,
		ReplyToUser: c.ReplyToUser,
		AuthorLiked: c.AuthorLiked,
		User: EnvUser{
			UID:      c.User.UID,
			Nickname: c.User.Nickname,
			UniqueID: c.User.UniqueID,
			Region:   c.User.Region,
			Verified: c.User.Verified,
		},
		Labels: labels,
		Now:    now.In(loc),
	}
}
