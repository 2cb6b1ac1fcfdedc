package store

// migrations are applied in order; migrations[i] takes the database from
// schema version i to i+1 (PRAGMA user_version). Never edit a released
// entry: append a new one.
//
// Conventions analysts can rely on:
//   - timestamps are TEXT in UTC, "2006-01-02T15:04:05.000Z": they sort as
//     text and sqlite's datetime()/julianday() understand them;
//   - platform ids are TEXT (they exceed 2^53);
//   - absent text is the empty string (NOT NULL); absent times are NULL.
var migrations = [...]string{
	// 1: the initial schema.
	`
CREATE TABLE comments (
	platform           TEXT NOT NULL,
	comment_id         TEXT NOT NULL,
	thread_id          TEXT NOT NULL DEFAULT '',
	post_id            TEXT NOT NULL DEFAULT '',
	root_id            TEXT NOT NULL DEFAULT '',
	reply_to_id        TEXT NOT NULL DEFAULT '',
	user_uid           TEXT NOT NULL DEFAULT '',
	user_nickname      TEXT NOT NULL DEFAULT '',
	user_unique_id     TEXT NOT NULL DEFAULT '',
	text               TEXT NOT NULL DEFAULT '',
	comment_created_at TEXT,
	disposition        TEXT NOT NULL CHECK (disposition IN ('evaluated', 'backlog', 'self')),
	seen_at            TEXT NOT NULL,
	PRIMARY KEY (platform, comment_id)
) STRICT;

CREATE INDEX comments_thread ON comments (platform, thread_id);

CREATE TABLE replies (
	id                INTEGER PRIMARY KEY,
	platform          TEXT NOT NULL,
	comment_id        TEXT NOT NULL,
	thread_id         TEXT NOT NULL DEFAULT '',
	rule              TEXT NOT NULL,
	responder         TEXT NOT NULL DEFAULT '',
	status            TEXT NOT NULL CHECK (status IN
	                  ('pending', 'sent', 'retrying', 'failed', 'unknown', 'dry_run', 'skipped')),
	reason            TEXT NOT NULL DEFAULT '',
	error             TEXT NOT NULL DEFAULT '',
	reply_text        TEXT NOT NULL DEFAULT '',
	attempts          INTEGER NOT NULL DEFAULT 0,
	platform_reply_id TEXT NOT NULL DEFAULT '',
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL,
	next_attempt_at   TEXT,
	UNIQUE (platform, comment_id, rule),
	FOREIGN KEY (platform, comment_id) REFERENCES comments (platform, comment_id)
) STRICT;

CREATE INDEX replies_created ON replies (created_at, id);
CREATE INDEX replies_status ON replies (status, created_at);
CREATE INDEX replies_rule ON replies (rule, created_at);
CREATE INDEX replies_thread ON replies (platform, thread_id, created_at);
CREATE INDEX replies_platform_reply ON replies (platform, platform_reply_id)
	WHERE platform_reply_id <> '';
CREATE INDEX replies_due ON replies (next_attempt_at) WHERE status = 'retrying';
CREATE INDEX replies_sent ON replies (responder, updated_at) WHERE status = 'sent';

CREATE TABLE threads (
	platform       TEXT NOT NULL,
	thread_id      TEXT NOT NULL,
	initialized    INTEGER NOT NULL DEFAULT 0,
	total          INTEGER NOT NULL DEFAULT 0,
	known          INTEGER NOT NULL DEFAULT 0,
	listing_order  TEXT NOT NULL DEFAULT '',
	page_size      INTEGER NOT NULL DEFAULT 0,
	cursor         TEXT NOT NULL DEFAULT '',
	polls          INTEGER NOT NULL DEFAULT 0,
	last_full_scan TEXT,
	last_polled    TEXT,
	PRIMARY KEY (platform, thread_id)
) STRICT;

CREATE TABLE pauses (
	scope      TEXT PRIMARY KEY,
	until      TEXT,
	reason     TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
) STRICT;

CREATE VIEW replies_v AS
SELECT r.id, r.platform, r.comment_id, r.thread_id, c.post_id, r.rule, r.responder,
       r.status, r.reason, r.error, r.reply_text, r.attempts, r.platform_reply_id,
       r.created_at, r.updated_at, r.next_attempt_at,
       c.text AS comment_text, c.user_uid, c.user_nickname, c.user_unique_id,
       c.comment_created_at, c.root_id, c.reply_to_id, c.disposition, c.seen_at
FROM replies r
JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id;
`,

	// 2: indexes for pacing. A rule's cooldown per user finds the user's
	// comments (then their claims by the unique (platform, comment_id,
	// rule)); reply variants read a responder's latest answers. Cooldowns
	// per thread and limits use replies_thread and replies_rule.
	`
CREATE INDEX comments_user ON comments (platform, user_uid);
CREATE INDEX replies_responder ON replies (responder, created_at);
`,

	// 3: adaptive polling. A quiet thread's polls in a row without anything
	// new, and when it is due again.
	`
ALTER TABLE threads ADD COLUMN idle_polls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE threads ADD COLUMN next_poll TEXT;
`,

	// 4: what the analyst needs beside the claims. threads.labels holds the
	// configured labels of each watched thread (a JSON object, '{}' when
	// none), rewritten at every daemon start and with every saved poll
	// state; replies_v carries them (LEFT JOIN: '{}' for a thread with no
	// row), so json_extract(labels, '$.campaign') groups answers by label.
	// meta holds facts about the database as a whole, such as the time zone
	// the daemon last ran in (key timezone, an IANA name), which history and
	// stats use to show local days. replies_v keeps its columns, in order;
	// labels comes last.
	`
ALTER TABLE threads ADD COLUMN labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels));

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

DROP VIEW replies_v;
CREATE VIEW replies_v AS
SELECT r.id, r.platform, r.comment_id, r.thread_id, c.post_id, r.rule, r.responder,
       r.status, r.reason, r.error, r.reply_text, r.attempts, r.platform_reply_id,
       r.created_at, r.updated_at, r.next_attempt_at,
       c.text AS comment_text, c.user_uid, c.user_nickname, c.user_unique_id,
       c.comment_created_at, c.root_id, c.reply_to_id, c.disposition, c.seen_at,
       coalesce(t.labels, '{}') AS labels
FROM replies r
JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id
LEFT JOIN threads t ON t.platform = r.platform AND t.thread_id = r.thread_id;
`,

	// 5: a person in the loop. Claims gain the statuses flagged, held,
	// rejected, expired and handled (SQLite cannot alter a CHECK: the table
	// is rebuilt, ids kept), and who decided on a held or flagged claim,
	// when, and their note (a rejection's reason). notifications is the
	// outbox of the notify channels: a row per claim and channel, inserted
	// in the claim's transaction, delivered after the cycle (at least once)
	// and kept for the record. replies_v keeps its columns, in order; the
	// decision columns come last.
	`
CREATE TABLE replies_new (
	id                INTEGER PRIMARY KEY,
	platform          TEXT NOT NULL,
	comment_id        TEXT NOT NULL,
	thread_id         TEXT NOT NULL DEFAULT '',
	rule              TEXT NOT NULL,
	responder         TEXT NOT NULL DEFAULT '',
	status            TEXT NOT NULL CHECK (status IN
	                  ('pending', 'sent', 'retrying', 'failed', 'unknown', 'dry_run', 'skipped',
	                   'flagged', 'held', 'rejected', 'expired', 'handled')),
	reason            TEXT NOT NULL DEFAULT '',
	error             TEXT NOT NULL DEFAULT '',
	reply_text        TEXT NOT NULL DEFAULT '',
	attempts          INTEGER NOT NULL DEFAULT 0,
	platform_reply_id TEXT NOT NULL DEFAULT '',
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL,
	next_attempt_at   TEXT,
	decided_by        TEXT NOT NULL DEFAULT '',
	decided_at        TEXT,
	decision_note     TEXT NOT NULL DEFAULT '',
	UNIQUE (platform, comment_id, rule),
	FOREIGN KEY (platform, comment_id) REFERENCES comments (platform, comment_id)
) STRICT;

INSERT INTO replies_new (id, platform, comment_id, thread_id, rule, responder, status, reason, error,
	reply_text, attempts, platform_reply_id, created_at, updated_at, next_attempt_at)
SELECT id, platform, comment_id, thread_id, rule, responder, status, reason, error,
	reply_text, attempts, platform_reply_id, created_at, updated_at, next_attempt_at
FROM replies;

DROP VIEW replies_v;
DROP TABLE replies;
ALTER TABLE replies_new RENAME TO replies;

CREATE INDEX replies_created ON replies (created_at, id);
CREATE INDEX replies_status ON replies (status, created_at);
CREATE INDEX replies_rule ON replies (rule, created_at);
CREATE INDEX replies_thread ON replies (platform, thread_id, created_at);
CREATE INDEX replies_platform_reply ON replies (platform, platform_reply_id)
	WHERE platform_reply_id <> '';
CREATE INDEX replies_due ON replies (next_attempt_at) WHERE status = 'retrying';
CREATE INDEX replies_sent ON replies (responder, updated_at) WHERE status = 'sent';
CREATE INDEX replies_responder ON replies (responder, created_at);

CREATE TABLE notifications (
	id              INTEGER PRIMARY KEY,
	reply_id        INTEGER NOT NULL REFERENCES replies (id),
	channel         TEXT NOT NULL,
	event           TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	error           TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	next_attempt_at TEXT,
	UNIQUE (reply_id, channel, event)
) STRICT;

CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_channel ON notifications (channel, status, created_at);

CREATE VIEW replies_v AS
SELECT r.id, r.platform, r.comment_id, r.thread_id, c.post_id, r.rule, r.responder,
       r.status, r.reason, r.error, r.reply_text, r.attempts, r.platform_reply_id,
       r.created_at, r.updated_at, r.next_attempt_at,
       c.text AS comment_text, c.user_uid, c.user_nickname, c.user_unique_id,
       c.comment_created_at, c.root_id, c.reply_to_id, c.disposition, c.seen_at,
       coalesce(t.labels, '{}') AS labels,
       r.decided_by, r.decided_at, r.decision_note
FROM replies r
JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id
LEFT JOIN threads t ON t.platform = r.platform AND t.thread_id = r.thread_id;
`,

	// 6: the console's queries (store/console.go), each bounded by an index
	// on a history of a million claims (BENCHMARKS.md, "Console queries").
	// replies_rule_status gives a rule's claims of one status and reason in
	// a period as one range, for the rule statistics. replies_thread_sent
	// holds only the sent claims, so a thread's newest answers are found
	// however many skipped claims the thread has. comments_user_seen gives
	// a user's newest comments without sorting them all.
	`
CREATE INDEX replies_rule_status ON replies (rule, status, reason, created_at);
CREATE INDEX replies_thread_sent ON replies (platform, thread_id, created_at) WHERE status = 'sent';
CREATE INDEX comments_user_seen ON comments (platform, user_uid, seen_at);
`,

	// 7: threads discovered under watched videos (store/discovered.go).
	// A row is a top-level comment whose replies are polled because a
	// listing of its video showed some: listed_total is the reply count the
	// last listing showed, known_total the count the last poll answered;
	// listed_total > known_total is a thread worth a poll. last_active is
	// when its count last moved, which decides the threads kept within a
	// video's max_threads. discovered_threads_changed holds only the
	// threads worth a poll, so that an idle video's are found without
	// reading all of them (BENCHMARKS.md, "Discovered threads"). The
	// thread's poll state and labels stay in threads, as for a configured
	// thread.
	`
CREATE TABLE discovered_threads (
	platform      TEXT NOT NULL,
	aweme_id      TEXT NOT NULL,
	thread_id     TEXT NOT NULL,
	known_total   INTEGER NOT NULL DEFAULT 0,
	listed_total  INTEGER NOT NULL DEFAULT 0,
	last_active   TEXT NOT NULL,
	discovered_at TEXT NOT NULL,
	baseline      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (platform, thread_id)
) STRICT;

CREATE INDEX discovered_threads_video ON discovered_threads (platform, aweme_id, last_active);
CREATE INDEX discovered_threads_changed ON discovered_threads (platform, aweme_id)
	WHERE listed_total > known_total;
`,

	// 8: a top-level comment of a watched video is its own thread, which
	// has no threads row until replies under it get it discovered: its
	// claims take the labels of its video, kept in the row of the video's
	// poll state (thread_id 'video:' || aweme_id; daemon.recordConfig sets
	// them). A thread's own row, where there is one, comes first.
	`
DROP VIEW replies_v;
CREATE VIEW replies_v AS
SELECT r.id, r.platform, r.comment_id, r.thread_id, c.post_id, r.rule, r.responder,
       r.status, r.reason, r.error, r.reply_text, r.attempts, r.platform_reply_id,
       r.created_at, r.updated_at, r.next_attempt_at,
       c.text AS comment_text, c.user_uid, c.user_nickname, c.user_unique_id,
       c.comment_created_at, c.root_id, c.reply_to_id, c.disposition, c.seen_at,
       coalesce(t.labels, v.labels, '{}') AS labels,
       r.decided_by, r.decided_at, r.decision_note
FROM replies r
JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id
LEFT JOIN threads t ON t.platform = r.platform AND t.thread_id = r.thread_id
LEFT JOIN threads v ON t.thread_id IS NULL AND v.platform = r.platform AND v.thread_id = 'video:' || c.post_id;
`,

	// 9: drafted answers (issue 20). Claims gain the status drafting: a
	// rule's answer a language model is writing (the table is rebuilt, ids
	// kept, as in 5; notifications, which refer to it, are rebuilt with
	// it, so no foreign key ever points at a dropped table). drafts holds
	// one row per drafting claim: what was asked (the rendered system and
	// prompt; the rule's context file is read from the rules when asked),
	// whether the answer is held for approval, the channels to tell, and,
	// once the model answered, its draft, model and token counts: a stored
	// draft is never asked for again. drafts_spent sums an endpoint's
	// tokens of a day for its budget. replies_v gains the draft's columns
	// at the end.
	`
CREATE TABLE replies_new (
	id                INTEGER PRIMARY KEY,
	platform          TEXT NOT NULL,
	comment_id        TEXT NOT NULL,
	thread_id         TEXT NOT NULL DEFAULT '',
	rule              TEXT NOT NULL,
	responder         TEXT NOT NULL DEFAULT '',
	status            TEXT NOT NULL CHECK (status IN
	                  ('pending', 'sent', 'retrying', 'failed', 'unknown', 'dry_run', 'skipped',
	                   'flagged', 'held', 'rejected', 'expired', 'handled', 'drafting')),
	reason            TEXT NOT NULL DEFAULT '',
	error             TEXT NOT NULL DEFAULT '',
	reply_text        TEXT NOT NULL DEFAULT '',
	attempts          INTEGER NOT NULL DEFAULT 0,
	platform_reply_id TEXT NOT NULL DEFAULT '',
	created_at        TEXT NOT NULL,
	updated_at        TEXT NOT NULL,
	next_attempt_at   TEXT,
	decided_by        TEXT NOT NULL DEFAULT '',
	decided_at        TEXT,
	decision_note     TEXT NOT NULL DEFAULT '',
	UNIQUE (platform, comment_id, rule),
	FOREIGN KEY (platform, comment_id) REFERENCES comments (platform, comment_id)
) STRICT;

INSERT INTO replies_new SELECT id, platform, comment_id, thread_id, rule, responder, status, reason, error,
	reply_text, attempts, platform_reply_id, created_at, updated_at, next_attempt_at,
	decided_by, decided_at, decision_note
FROM replies;

CREATE TABLE notifications_new (
	id              INTEGER PRIMARY KEY,
	reply_id        INTEGER NOT NULL REFERENCES replies_new (id),
	channel         TEXT NOT NULL,
	event           TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	error           TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	next_attempt_at TEXT,
	UNIQUE (reply_id, channel, event)
) STRICT;

INSERT INTO notifications_new SELECT id, reply_id, channel, event, status, attempts, error,
	created_at, updated_at, next_attempt_at
FROM notifications;

DROP VIEW replies_v;
DROP TABLE notifications;
DROP TABLE replies;
ALTER TABLE replies_new RENAME TO replies;
ALTER TABLE notifications_new RENAME TO notifications;

CREATE INDEX replies_created ON replies (created_at, id);
CREATE INDEX replies_status ON replies (status, created_at);
CREATE INDEX replies_rule ON replies (rule, created_at);
CREATE INDEX replies_thread ON replies (platform, thread_id, created_at);
CREATE INDEX replies_platform_reply ON replies (platform, platform_reply_id)
	WHERE platform_reply_id <> '';
CREATE INDEX replies_due ON replies (next_attempt_at) WHERE status = 'retrying';
CREATE INDEX replies_sent ON replies (responder, updated_at) WHERE status = 'sent';
CREATE INDEX replies_responder ON replies (responder, created_at);
CREATE INDEX replies_rule_status ON replies (rule, status, reason, created_at);
CREATE INDEX replies_thread_sent ON replies (platform, thread_id, created_at) WHERE status = 'sent';
CREATE INDEX replies_drafting ON replies (next_attempt_at) WHERE status = 'drafting';

CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_channel ON notifications (channel, status, created_at);

CREATE TABLE drafts (
	reply_id          INTEGER PRIMARY KEY REFERENCES replies (id),
	llm               TEXT NOT NULL,
	system            TEXT NOT NULL DEFAULT '',
	prompt            TEXT NOT NULL,
	max_length        INTEGER NOT NULL DEFAULT 0,
	approve           INTEGER NOT NULL DEFAULT 1,
	notify            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(notify)),
	attempts          INTEGER NOT NULL DEFAULT 0,
	requested_at      TEXT,
	draft_text        TEXT,
	model             TEXT NOT NULL DEFAULT '',
	prompt_tokens     INTEGER NOT NULL DEFAULT 0,
	completion_tokens INTEGER NOT NULL DEFAULT 0,
	drafted_at        TEXT
) STRICT;

CREATE INDEX drafts_spent ON drafts (llm, drafted_at);

CREATE VIEW replies_v AS
SELECT r.id, r.platform, r.comment_id, r.thread_id, c.post_id, r.rule, r.responder,
       r.status, r.reason, r.error, r.reply_text, r.attempts, r.platform_reply_id,
       r.created_at, r.updated_at, r.next_attempt_at,
       c.text AS comment_text, c.user_uid, c.user_nickname, c.user_unique_id,
       c.comment_created_at, c.root_id, c.reply_to_id, c.disposition, c.seen_at,
       coalesce(t.labels, v.labels, '{}') AS labels,
       r.decided_by, r.decided_at, r.decision_note,
       coalesce(d.llm, '') AS llm, d.draft_text, coalesce(d.model, '') AS llm_model,
       coalesce(d.prompt_tokens, 0) AS prompt_tokens, coalesce(d.completion_tokens, 0) AS completion_tokens
FROM replies r
JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id
LEFT JOIN threads t ON t.platform = r.platform AND t.thread_id = r.thread_id
LEFT JOIN threads v ON t.thread_id IS NULL AND v.platform = r.platform AND v.thread_id = 'video:' || c.post_id
LEFT JOIN drafts d ON d.reply_id = r.id;
`,

	// 10: several daemons on one database (issue 21). instances holds one
	// row per daemon (its config's instance): where and since when it
	// runs, and its heartbeat, written every quarter of a lease's time to
	// live; a daemon is alive while its heartbeat is younger than that
	// time. leases gives each polled thread ('thread:' platform ':'
	// thread_id, a video's 'video:' state key included) and each job run
	// once (job:retention, job:outbox) to one holder until expires_at.
	// replies.instance is the daemon that made a claim, or last started
	// its send or draft ('' for claims made before): a daemon's startup,
	// or the takeover of a dead daemon's threads, settles only the
	// pending claims of its own name, of no name or of dead daemons.
	// replies_v keeps its columns. Since, with no change of schema, a
	// lease holds while its holder's heartbeat is fresh (written every
	// 2.5 s), and expires_at is only written at a take (then + the time
	// to live).
	`
ALTER TABLE replies ADD COLUMN instance TEXT NOT NULL DEFAULT '';

CREATE TABLE instances (
	name         TEXT PRIMARY KEY,
	host         TEXT NOT NULL DEFAULT '',
	pid          INTEGER NOT NULL DEFAULT 0,
	version      TEXT NOT NULL DEFAULT '',
	started_at   TEXT NOT NULL,
	heartbeat_at TEXT NOT NULL
) STRICT;

CREATE TABLE leases (
	name        TEXT PRIMARY KEY,
	holder      TEXT NOT NULL,
	expires_at  TEXT NOT NULL,
	acquired_at TEXT NOT NULL
) STRICT;

CREATE INDEX leases_holder ON leases (holder);
`,
}

// SchemaVersion is the schema version (PRAGMA user_version) this code
// writes and expects.
const SchemaVersion = len(migrations)
