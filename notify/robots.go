package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
)

// Each robot is sent a plain text message: markdown would let a stranger's
// comment carry links, images and formatting, and text is what all three
// render the same way. Nothing in a message asks for a mention (no
// mentioned_list, no at, no <at>), and disarm keeps the comment from
// spelling one.

// wecom is a WeCom (企业微信) group robot: POST {"msgtype":"text",
// "text":{"content":...}} to .../cgi-bin/webhook/send?key=KEY; the answer
// is {"errcode":0,"errmsg":"ok"}.
type wecom struct{ *client }

// wecomCodes are the WeCom answers a robot message may get, from its
// group-robot guide and global error codes.
var wecomCodes = map[int]codeInfo{
	-1:    {Retry, "system busy", 0},
	45009: {Retry, "too many messages: a WeCom robot takes 20 a minute", time.Minute},
	93000: {Config, "the webhook URL's key is wrong, or the robot was removed from its group", 0},
	93004: {Config, "the robot is disabled", 0},
	45002: {Refused, "message too long", 0},
	40008: {Refused, "message type refused", 0},
	44004: {Refused, "empty message", 0},
}

func (w *wecom) Send(ctx context.Context, events []Event) error {
	_, err := w.deliver(ctx, events)
	return err
}

func (w *wecom) deliver(ctx context.Context, events []Event) (Answer, error) {
	type text struct {
		Content string `json:"content"`
	}
	body, err := httpx.JSON(struct {
		MsgType string `json:"msgtype"`
		Text    text   `json:"text"`
	}{"text", text{w.render.text(events)}})
	if err != nil {
		return Answer{}, w.errorf(Refused, "cannot encode the message: %v", err)
	}
	a, err := w.post(ctx, w.url, body, nil)
	if err != nil {
		return Answer{}, err
	}
	defer a.Release()
	return w.robotAnswer(a, wecomCodes)
}

// dingtalk is a DingTalk (钉钉) custom robot: POST {"msgtype":"text",
// "text":{"content":...}} to .../robot/send?access_token=TOKEN, signed
// (加签) when a secret is set; the answer is {"errcode":0,"errmsg":"ok"}.
type dingtalk struct{ *client }

// dingtalkCodes are the DingTalk answers a robot message may get, from its
// custom robot guide.
var dingtalkCodes = map[int]codeInfo{
	-1: {Retry, "system busy", 0},
	// Over 20 a minute, DingTalk blocks the robot for ten minutes.
	130101: {Retry, "sent too fast: a DingTalk robot takes 20 messages a minute, then is blocked for 10 minutes", 10 * time.Minute},
	410100: {Retry, "sent too fast: the robot is throttled", 10 * time.Minute},
	310000: {Config, "refused by the robot's security settings: a wrong 加签 secret, a message without one of its custom keywords (messages always hold \"autoreplyd\"), an IP not in its allow-list, or this machine's clock more than an hour off", 0},
	300001: {Config, "the URL's access_token is wrong (token is not exist)", 0},
	400101: {Config, "the URL's access_token does not exist", 0},
	400102: {Config, "the robot is disabled", 0},
	400106: {Config, "the robot does not exist", 0},
	400013: {Config, "the group was dissolved", 0},
	400105: {Refused, "message type refused", 0},
	430101: {Refused, "content refused: an unsafe link", 0},
	430102: {Refused, "content refused: inappropriate text", 0},
	430103: {Refused, "content refused: inappropriate image", 0},
	430104: {Refused, "content refused: inappropriate content", 0},
	460101: {Refused, "message too large", 0},
}

func (d *dingtalk) Send(ctx context.Context, events []Event) error {
	_, err := d.deliver(ctx, events)
	return err
}

func (d *dingtalk) deliver(ctx context.Context, events []Event) (Answer, error) {
	type text struct {
		Content string `json:"content"`
	}
	body, err := httpx.JSON(struct {
		MsgType string `json:"msgtype"`
		Text    text   `json:"text"`
	}{"text", text{d.render.text(events)}})
	if err != nil {
		return Answer{}, d.errorf(Refused, "cannot encode the message: %v", err)
	}
	target := d.url
	if d.secret != "" {
		// Checked by Spec.Check: the URL parses.
		u, err := url.Parse(d.url)
		if err != nil {
			return Answer{}, d.errorf(Config, "the URL does not parse")
		}
		ts, sign := DingTalkSign(d.secret, d.now())
		q := u.Query()
		q.Set("timestamp", ts)
		q.Set("sign", sign)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	a, err := d.post(ctx, target, body, nil)
	if err != nil {
		return Answer{}, err
	}
	defer a.Release()
	return d.robotAnswer(a, dingtalkCodes)
}

// DingTalkSign is DingTalk's 加签 of a message sent at t: timestamp is t in
// milliseconds, sign the base64 of HMAC-SHA256 keyed by secret over
// timestamp + "\n" + secret. Both go into the URL's query (url.Values
// escapes sign's + / =); DingTalk accepts a timestamp within an hour of its
// clock.
func DingTalkSign(secret string, t time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(t.UnixMilli(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "\n" + secret))
	return timestamp, base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// feishu is a Feishu or Lark (飞书) custom robot: POST {"msg_type":"text",
// "content":{"text":...}} to .../open-apis/bot/v2/hook/ID, with timestamp
// and sign in the body when a secret is set; the answer is
// {"code":0,"msg":"success"}.
type feishu struct{ *client }

// feishuCodes are the Feishu answers a robot message may get, from its
// custom robot guide.
var feishuCodes = map[int]codeInfo{
	// Feishu allows a robot 100 messages a minute and 5 a second, and
	// throttles busy times of day (on the hour and half hour) as well.
	11232: {Retry, "throttled: a Feishu robot takes 100 messages a minute, 5 a second", time.Minute},
	19021: {Config, "signature refused: a wrong 签名校验 secret, or this machine's clock more than an hour off", 0},
	19022: {Config, "this machine's IP is not in the robot's allow-list", 0},
	19024: {Config, "the message holds none of the robot's custom keywords (messages always hold \"autoreplyd\")", 0},
	19001: {Config, "the URL's hook id is wrong, or the robot was removed", 0},
	9499:  {Refused, "bad request: the message was not understood", 0},
}

func (f *feishu) Send(ctx context.Context, events []Event) error {
	_, err := f.deliver(ctx, events)
	return err
}

func (f *feishu) deliver(ctx context.Context, events []Event) (Answer, error) {
	type content struct {
		Text string `json:"text"`
	}
	msg := struct {
		Timestamp string  `json:"timestamp,omitempty"`
		Sign      string  `json:"sign,omitempty"`
		MsgType   string  `json:"msg_type"`
		Content   content `json:"content"`
	}{MsgType: "text", Content: content{f.render.text(events)}}
	if f.secret != "" {
		msg.Timestamp, msg.Sign = FeishuSign(f.secret, f.now())
	}
	body, err := httpx.JSON(msg)
	if err != nil {
		return Answer{}, f.errorf(Refused, "cannot encode the message: %v", err)
	}
	a, err := f.post(ctx, f.url, body, nil)
	if err != nil {
		return Answer{}, err
	}
	defer a.Release()
	return f.robotAnswer(a, feishuCodes)
}

// FeishuSign is Feishu's 签名校验 of a message sent at t: timestamp is t in
// seconds, sign the base64 of HMAC-SHA256 keyed by timestamp + "\n" +
// secret over an empty message. Both go into the JSON body; Feishu accepts
// a timestamp within an hour of its clock.
func FeishuSign(secret string, t time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(timestamp+"\n"+secret))
	return timestamp, base64.StdEncoding.EncodeToString(m.Sum(nil))
}
