package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// check is what the harness verified after the run: every question
// answered exactly once (at kitkot and in the history), spam skipped by the
// spam rule, chatter recorded without a claim.
type check struct {
	Questions  int `json:"questions"`
	Spam       int `json:"spam"`
	Chatter    int `json:"chatter"`
	Posts      int `json:"posts"`
	Unexpected int `json:"unexpected_posts"`
	Unanswered int `json:"unanswered"`
	SentRows   int `json:"sent_rows"`
	// Of them on watched videos: top-level comments and replies in
	// discovered threads, their questions, and those never answered.
	TopLevel              int      `json:"top_level,omitempty"`
	TopQuestions          int      `json:"top_level_questions,omitempty"`
	UnansweredTop         int      `json:"top_level_unanswered,omitempty"`
	VideoReplies          int      `json:"video_thread_replies,omitempty"`
	VideoReplyQuestions   int      `json:"video_thread_questions,omitempty"`
	UnansweredVideoThread int      `json:"video_thread_unanswered,omitempty"`
	Problems              []string `json:"problems,omitempty"`
}

func (c *check) problem(format string, args ...any) {
	const most = 20
	if len(c.Problems) < most {
		c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
	} else if len(c.Problems) == most {
		c.Problems = append(c.Problems, "…")
	}
}

// verify compares the new replies with what reached kitkot and what the
// history at database (an SQLite path, or with pg a PostgreSQL URL)
// records of them.
func verify(ctx context.Context, pg bool, database string, added []newReply, ans answers) (_ check, err error) {
	var c check
	for _, r := range added {
		switch r.Where {
		case topLevel:
			c.TopLevel++
			if r.Kind == question {
				c.TopQuestions++
			}
		case inVideoThread:
			c.VideoReplies++
			if r.Kind == question {
				c.VideoReplyQuestions++
			}
		}
		switch r.Kind {
		case question:
			c.Questions++
		case spam:
			c.Spam++
		default:
			c.Chatter++
		}
	}
	c.Posts, c.Unexpected, c.Unanswered = ans.Posts, ans.Unexpected, ans.Pending
	c.UnansweredTop, c.UnansweredVideoThread = ans.PendingAt[topLevel], ans.PendingAt[inVideoThread]
	if c.Unexpected > 0 {
		c.problem("%d answers reached kitkot for threads with no unanswered question (a duplicate)", c.Unexpected)
	}
	if c.Unanswered > 0 {
		c.problem("%d questions never answered", c.Unanswered)
	}
	if c.Posts != c.Questions {
		c.problem("%d answers reached kitkot for %d questions", c.Posts, c.Questions)
	}

	db, ph, err := historyDB(pg, database)
	if err != nil {
		return c, err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	type claim struct{ rule, status string }
	claims := map[string][]claim{}
	disp := map[string]string{}
	const chunk = 500
	for lo := 0; lo < len(added); lo += chunk {
		part := added[lo:min(lo+chunk, len(added))]
		args := make([]any, len(part))
		for i, r := range part {
			args[i] = r.CID
		}
		marks := make([]string, len(part))
		for i := range part {
			marks[i] = ph(i + 1)
		}
		in := strings.Join(marks, ",")
		//nolint:gosec // G202: in is placeholders only; the ids are bound
		rows, err := db.QueryContext(ctx, `SELECT comment_id, rule, status FROM replies
			WHERE platform = 'douyin' AND comment_id IN (`+in+`)`, args...)
		if err != nil {
			return c, err
		}
		for rows.Next() {
			var id string
			var cl claim
			if err := rows.Scan(&id, &cl.rule, &cl.status); err != nil {
				rows.Close()
				return c, err
			}
			claims[id] = append(claims[id], cl)
		}
		rows.Close()
		//nolint:gosec // G202: in is placeholders only; the ids are bound
		rows, err = db.QueryContext(ctx, `SELECT comment_id, disposition FROM comments
			WHERE platform = 'douyin' AND comment_id IN (`+in+`)`, args...)
		if err != nil {
			return c, err
		}
		for rows.Next() {
			var id, d string
			if err := rows.Scan(&id, &d); err != nil {
				rows.Close()
				return c, err
			}
			disp[id] = d
		}
		rows.Close()
	}
	for _, r := range added {
		if d := disp[r.CID]; d != "evaluated" {
			c.problem("%s %s %s (thread %s): disposition %q, want evaluated", r.Kind, r.Where, r.CID, r.ThreadID, d)
			continue
		}
		cls := claims[r.CID]
		switch r.Kind {
		case question:
			sent := 0
			for _, cl := range cls {
				if cl.status == "sent" && (cl.rule == "price" || cl.rule == "buy_link") {
					sent++
				}
			}
			c.SentRows += sent
			if sent != 1 || len(cls) != 1 {
				c.problem("question %s %s (thread %s): claims %v, want one sent by price or buy_link", r.Where, r.CID, r.ThreadID, cls)
			}
		case spam:
			if len(cls) != 1 || cls[0].rule != "spam" || cls[0].status != "skipped" {
				c.problem("spam %s: claims %v, want one skipped by spam", r.CID, cls)
			}
		default:
			if len(cls) != 0 {
				c.problem("chatter %s: claims %v, want none", r.CID, cls)
			}
		}
	}
	return c, nil
}
