package config

import (
	"fmt"
	"strings"
	"testing"
)

// everyIDKey is a valid config with every source; each %s is one id key's
// value, in the order of idKeys.
const everyIDKey = `
sources:
  douyin:
    token: t
    self_uids: [%s]
    threads: [{comment_id: %s, aweme_id: %s}]
  tiktok:
    api_key: k
    self_uids: [%s]
    threads: [{comment_id: %s, aweme_id: %s}]
  wechat:
    app_id: wx1
    app_secret: s
    articles: [{msg_data_id: %s, index: 0}]
  weibo:
    access_token: w
    self_uids: [%s]
    weibos: [{id: %s}]
responders:
  kitkot: {api_key: a, session_key: s}
  wechat: {app_id: wx1, app_secret: s}
  weibo: {access_token: w}
`

// idKeys are every id key of every source, in everyIDKey' order, with a
// getter for the loaded value.
var idKeys = []struct {
	key string
	get func(*Config) string
}{
	{"sources.douyin.self_uids[0]", func(c *Config) string { return srcs(c).Douyin.SelfUIDList[0] }},
	{"sources.douyin.threads[0].comment_id", func(c *Config) string { return srcs(c).Douyin.Threads[0].CommentID }},
	{"sources.douyin.threads[0].aweme_id", func(c *Config) string { return srcs(c).Douyin.Threads[0].AwemeID }},
	{"sources.tiktok.self_uids[0]", func(c *Config) string { return srcs(c).TikTok.SelfUIDList[0] }},
	{"sources.tiktok.threads[0].comment_id", func(c *Config) string { return srcs(c).TikTok.Threads[0].CommentID }},
	{"sources.tiktok.threads[0].aweme_id", func(c *Config) string { return srcs(c).TikTok.Threads[0].AwemeID }},
	{"sources.wechat.articles[0].msg_data_id", func(c *Config) string { return srcs(c).Wechat.Articles[0].MsgDataID }},
	{"sources.weibo.self_uids[0]", func(c *Config) string { return srcs(c).Weibo.SelfUIDList[0] }},
	{"sources.weibo.weibos[0].id", func(c *Config) string { return srcs(c).Weibo.Weibos[0].ID }},
}

// allSourcesWith is everyIDKey with every id a distinct quoted id except
// the one at index i, which is v as written.
func allSourcesWith(i int, v string) string {
	vals := make([]any, len(idKeys))
	for j := range idKeys {
		vals[j] = fmt.Sprintf(`"%d"`, 100+j)
	}
	vals[i] = v
	return fmt.Sprintf(everyIDKey, vals...)
}

// An unquoted id keeps every digit, even beyond what a YAML number holds
// (YAML reads a 20-digit number as a float that has lost its last digits).
func TestUnquotedIDsKeepEveryDigit(t *testing.T) {
	for i, k := range idKeys {
		for _, v := range []string{"72515241591919583270", "7251524159191958327", "0123"} {
			c := mustLoad(t, allSourcesWith(i, v))
			if got := k.get(c); got != v {
				t.Errorf("%s: %s loaded as %q", k.key, v, got)
			}
		}
	}
}

// An id is decimal digits only: what YAML reads as a number in another
// notation (16 for 0x10) is refused, with one line naming the key and
// saying to quote the id.
func TestIDsAreDecimalDigitsOnly(t *testing.T) {
	for i, k := range idKeys {
		for _, v := range []string{"0x10", "0o17", "0b101", "1_000", "+5", "-5", "12.5", "7.2e18", ".inf", "2024-01-02", "abc"} {
			path := writeConfig(t, allSourcesWith(i, v))
			_, err := Load(path, nil)
			if err == nil {
				t.Errorf("%s: %s accepted", k.key, v)
				continue
			}
			want := fmt.Sprintf("%s: %s: %q is not a numeric id: ids are decimal digits only; write the id in quotes as the platform shows it, e.g. \"7251524159191958327\"", path, k.key, v)
			if got := err.Error(); got != want {
				t.Errorf("%s: %s:\n got %s\nwant %s", k.key, v, got, want)
			}
		}
	}
}

// A key that decoding refused gets that one problem, not a second
// ("missing") for the empty value it left.
func TestOneProblemPerKey(t *testing.T) {
	for i, k := range idKeys {
		path := writeConfig(t, allSourcesWith(i, "[1, 2]"))
		_, err := Load(path, nil)
		if err == nil {
			t.Fatalf("%s: a list accepted", k.key)
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], path+": "+k.key+": expected a single value") {
			t.Errorf("%s: want one line, got:\n%s", k.key, err)
		}
	}
}

// Text keys other than ids keep what was written too; number keys still
// read the number.
func TestUnquotedTextKeptAsWritten(t *testing.T) {
	c := mustLoad(t, `
sources:
  douyin:
    token: 0123
    max_pages: 0x10
    timeout: 90s
    threads: [{comment_id: "1", labels: {version: 1.10, day: 2026-01-02, hex: 0x1F}}]
responders:
  kitkot: {api_key: 1e3, session_key: s, burst: 3, daily_cap: 0}
`)
	d := srcs(c).Douyin
	if d.Token.Value() != "0123" || resps(c).Kitkot.APIKey.Value() != "1e3" {
		t.Error("a secret YAML reads as a number was not kept as written")
	}
	want := map[string]string{"version": "1.10", "day": "2026-01-02", "hex": "0x1F"}
	for k, v := range want {
		if got := d.Threads[0].Labels[k]; got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	if d.MaxPages != 16 || resps(c).Kitkot.Burst != 3 || d.Timeout.String() != "1m30s" {
		t.Errorf("numbers: max_pages %d, burst %d, timeout %s", d.MaxPages, resps(c).Kitkot.Burst, d.Timeout)
	}
}
