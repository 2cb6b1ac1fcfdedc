package simulator

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// KitkotReplyPath is the path the kitkot imitation serves; tests use
// server.URL + "/api" as the responder's base URL.
const KitkotReplyPath = "/api/video/comments/publish/reply"

// KitkotGuidelinesMsg is the message of the imitation's refusal of a text
// holding one of its BannedWords.
const KitkotGuidelinesMsg = "Failed to publish reply: content violates community guidelines"

// kkRequiredParams are the query parameters kitkot's reply endpoint requires,
// in the order the imitation checks them.
var kkRequiredParams = []string{"api_key", "session_key", "aweme_id", "text", "reply_id"}

// Post is one reply the kitkot imitation accepted. It never holds the
// caller's keys.
type Post struct {
	CID     string // the new comment's id, as answered to the client
	AwemeID string
	ReplyID string // the comment answered (a root comment's cid)
	Text    string
	At      time.Time
}

// Kitkot imitates kitkot's `GET /api/video/comments/publish/reply`, from
// seeds/kitkot-reply-comment.txt: success is HTTP 200 with code 200 and the
// new comment; failure is HTTP 400 `{"code":400,"msg":...}`. It is an
// http.Handler, safe for concurrent use. Set the exported fields before
// serving; Faults may be pushed at any time.
type Kitkot struct {
	// BotUID and BotNickname are the account replies are posted as (the new
	// comment's user.uid and user.nickname).
	BotUID      string
	BotNickname string
	// MaxLength is the longest accepted text in runes; 0 means no limit.
	MaxLength int
	// BannedWords imitate TikTok's content moderation: a text holding one
	// (say a commenter's nickname a template echoed) is refused with the
	// documented HTTP 400 {"code":400,"msg":...}, like every other refusal.
	BannedWords []string
	// Faults are consumed one per request.
	Faults Faults
	// OnPost, when set, is called after a post is accepted (before the
	// answer is written), e.g. to make the reply show up in a thread
	// imitation.
	OnPost func(Post)

	apiKey     string
	sessionKey string

	mu       sync.Mutex
	posts    []Post
	requests int
	nextCID  uint64
	kr       krState // the reply listing (kitkot_replies.go)
}

// NewKitkot returns an imitation that accepts exactly apiKey and sessionKey.
func NewKitkot(apiKey, sessionKey string) *Kitkot {
	return &Kitkot{
		BotUID:      "7000000000000000001",
		BotNickname: "官方小助手",
		apiKey:      apiKey,
		sessionKey:  sessionKey,
		// 19 digits, far above 2^53 (9007199254740992), and a random start so
		// two imitations (or runs) do not hand out the same ids.
		nextCID: 7_600_000_000_000_000_000 + rand.Uint64N(1_000_000_000)*1_000_000, // a range apart from JustOneAPI's cids
	}
}

// Posts returns a copy of the accepted posts, oldest first.
func (k *Kitkot) Posts() []Post {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Post(nil), k.posts...)
}

// Requests is the number of requests that reached the handler, whatever
// their outcome.
func (k *Kitkot) Requests() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.requests
}

// ServeHTTP implements http.Handler.
func (k *Kitkot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	k.requests++
	k.mu.Unlock()

	fl, faulty := k.Faults.Next()
	if faulty {
		if before(w, r, fl) {
			return
		}
		// A slow request whose client gave up is never processed here, so
		// tests know that FaultSlow posted nothing.
		if fl.Kind == FaultSlow && r.Context().Err() != nil {
			return
		}
		if fl.Kind == FaultCode {
			k.writeJSON(w, http.StatusBadRequest, map[string]any{"code": fl.Code, "msg": fl.Msg})
			return
		}
	}

	if r.URL.Path == KitkotRepliesPath {
		k.krServe(w, r, fl, faulty)
		return
	}
	if r.URL.Path != KitkotReplyPath {
		k.fail(w, http.StatusNotFound, "Not found")
		return
	}
	if r.Method != http.MethodGet {
		k.fail(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	q := r.URL.Query()
	for _, name := range kkRequiredParams {
		vs := q[name]
		switch {
		case len(vs) == 0 || vs[0] == "":
			k.fail(w, http.StatusBadRequest, "Missing required parameter: "+name)
			return
		case len(vs) > 1:
			// Usually an unencoded '&' in the text: refuse rather than guess.
			k.fail(w, http.StatusBadRequest, "Parameter given more than once: "+name)
			return
		}
	}
	if !kkEqual(q.Get("api_key"), k.apiKey) {
		k.fail(w, http.StatusBadRequest, "Invalid api_key")
		return
	}
	if !kkEqual(q.Get("session_key"), k.sessionKey) {
		k.fail(w, http.StatusBadRequest, "Invalid session_key: please log in again")
		return
	}
	text := q.Get("text")
	if n := utf8.RuneCountInString(text); k.MaxLength > 0 && n > k.MaxLength {
		k.fail(w, http.StatusBadRequest,
			fmt.Sprintf("Failed to publish reply: text too long (%d characters, at most %d)", n, k.MaxLength))
		return
	}

	for _, word := range k.BannedWords {
		if word != "" && strings.Contains(text, word) {
			k.fail(w, http.StatusBadRequest, KitkotGuidelinesMsg)
			return
		}
	}

	p := k.record(q.Get("aweme_id"), q.Get("reply_id"), text)
	if k.OnPost != nil {
		k.OnPost(p)
	}

	if faulty && after(w, r, fl) {
		return
	}
	k.writeJSON(w, http.StatusOK, map[string]any{
		"code":    200,
		"comment": k.comment(p),
		"msg":     "Comment sent successfully",
	})
}

// record stores an accepted post under a new cid.
func (k *Kitkot) record(awemeID, replyID, text string) Post {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.nextCID += 1 + rand.Uint64N(997)
	p := Post{
		CID:     strconv.FormatUint(k.nextCID, 10),
		AwemeID: awemeID,
		ReplyID: replyID,
		Text:    text,
		At:      time.Now(),
	}
	k.posts = append(k.posts, p)
	return p
}

// fail writes the document's failure shape.
func (k *Kitkot) fail(w http.ResponseWriter, status int, msg string) {
	k.writeJSON(w, status, map[string]any{"code": status, "msg": msg})
}

func (k *Kitkot) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// comment is the new comment object as the document shows it, user object
// included. Values the document elides ([Object], [Array]) are small
// plausible stand-ins.
func (k *Kitkot) comment(p Post) map[string]any {
	return map[string]any{
		"reply_id":          p.ReplyID,
		"user_digged":       0,
		"text_extra":        []any{},
		"text":              p.Text,
		"aweme_id":          p.AwemeID,
		"reply_to_reply_id": "0",
		"status":            7,
		// The comment answered; its cid is not the new comment's cid.
		"reply_comment": []any{map[string]any{"cid": p.ReplyID, "aweme_id": p.AwemeID}},
		"cid":           p.CID,
		"create_time":   p.At.Unix(),
		"user":          k.user(p.At),
		"label_list":    nil,
		"digg_count":    0,
	}
}

func kkImage(name string) map[string]any {
	return map[string]any{
		"uri":      name,
		"url_list": []string{"https://p16.example.invalid/" + name + ".jpeg"},
		"width":    720,
		"height":   720,
	}
}

func (k *Kitkot) user(now time.Time) map[string]any {
	return map[string]any{
		"user_tags":                      nil,
		"twitter_id":                     "",
		"need_recommend":                 0,
		"ins_id":                         "",
		"secret":                         0,
		"uid":                            k.BotUID,
		"apple_account":                  0,
		"avatar_medium":                  kkImage("avatar_medium"),
		"total_favorited":                0,
		"user_profile_guide":             nil,
		"enterprise_verify_reason":       "",
		"account_region":                 "",
		"shield_follow_notice":           0,
		"shield_edit_field_info":         nil,
		"status":                         1,
		"avatar_thumb":                   kkImage("avatar_thumb"),
		"follower_count":                 0,
		"live_verify":                    2,
		"has_twitter_token":              false,
		"has_facebook_token":             false,
		"youtube_channel_title":          "",
		"user_now_pack_info":             map[string]any{},
		"google_account":                 "",
		"short_id":                       "0",
		"comment_setting":                0,
		"events":                         nil,
		"react_setting":                  0,
		"follow_status":                  0,
		"account_labels":                 nil,
		"advance_feature_item_order":     nil,
		"commerce_user_level":            0,
		"cha_list":                       nil,
		"user_mode":                      1,
		"sec_uid":                        "MS4wLjABAAAA" + k.BotUID,
		"hide_search":                    false,
		"bold_fields":                    nil,
		"live_commerce":                  false,
		"story_status":                   0,
		"comment_filter_status":          0,
		"is_star":                        false,
		"has_insights":                   false,
		"advanced_feature_info":          nil,
		"region":                         "US",
		"duet_setting":                   0,
		"is_phone_binded":                false,
		"type_label":                     nil,
		"avatar_larger":                  kkImage("avatar_larger"),
		"verify_info":                    "",
		"cv_level":                       "",
		"relative_users":                 nil,
		"user_rate":                      1,
		"authority_status":               0,
		"avatar_uri":                     "avatar_uri",
		"favoriting_count":               0,
		"avatar_300x300":                 kkImage("avatar_300x300"),
		"video_icon":                     kkImage("video_icon"),
		"mutual_relation_avatars":        nil,
		"aweme_count":                    0,
		"custom_verify":                  "",
		"cover_url":                      []any{kkImage("cover")},
		"has_email":                      false,
		"search_highlight":               nil,
		"unique_id":                      "autoreply_bot",
		"nickname":                       k.BotNickname,
		"can_set_geofencing":             nil,
		"with_commerce_entry":            false,
		"has_youtube_token":              false,
		"room_id":                        0,
		"create_time":                    int64(1667504852),
		"following_count":                0,
		"prevent_download":               false,
		"has_orders":                     false,
		"twitter_name":                   "",
		"bind_phone":                     "",
		"item_list":                      nil,
		"unique_id_modify_time":          now.Unix(),
		"homepage_bottom_toast":          nil,
		"user_canceled":                  false,
		"friends_status":                 0,
		"stitch_setting":                 0,
		"fb_expire_time":                 0,
		"download_prompt_ts":             0,
		"special_account":                map[string]any{"special_account_list": nil},
		"followers_detail":               nil,
		"is_block":                       false,
		"show_image_bubble":              false,
		"avatar_168x168":                 kkImage("avatar_168x168"),
		"platform_sync_info":             nil,
		"with_shop_entry":                false,
		"download_setting":               0,
		"user_period":                    0,
		"ad_cover_url":                   nil,
		"special_lock":                   1,
		"geofencing":                     nil,
		"follower_status":                0,
		"is_discipline_member":           false,
		"youtube_channel_id":             "",
		"youtube_expire_time":            0,
		"mention_status":                 1,
		"need_points":                    nil,
		"language":                       "en",
		"white_cover_url":                nil,
		"tw_expire_time":                 0,
		"shield_comment_notice":          0,
		"is_ad_fake":                     false,
		"can_message_follow_status_list": nil,
		"signature":                      "",
		"verification_type":              0,
		"matched_friend_available":       false,
		"accept_private_policy":          false,
		"live_agreement":                 0,
		"shield_digg_notice":             0,
	}
}

// kkEqual compares secrets in constant time.
func kkEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
