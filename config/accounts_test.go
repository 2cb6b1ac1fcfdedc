package config

import (
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/platform/douyin"
	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/platform/wechat"
)

// accounts is the example: two kitkot accounts, one Douyin source
// answering by shop, one thread routed to brand.
const accounts = `
responders:
  shop:  {type: kitkot, api_key: KEY-shared-77, session_key: SESSION-shop-11}
  brand: {type: kitkot, api_key: KEY-shared-77, session_key: SESSION-brand-22, rate: 10/m}
sources:
  douyin:
    token: TOKEN-douyin-33
    responder: shop
    threads:
      - {comment_id: "7251524159191958327", aweme_id: "7251517975340027197"}
      - {comment_id: "7251524159191950001", aweme_id: "7251517975340020001", responder: brand}
`

func TestNamedSections(t *testing.T) {
	c := mustLoad(t, accounts)
	if len(c.Responders) != 2 || c.Responders[0].Name != "brand" || c.Responders[1].Name != "shop" {
		t.Fatalf("responders (sorted by name): %+v", c.Responders)
	}
	for _, r := range c.Responders {
		if r.Type != "kitkot" || r.Section.Base().Type != "kitkot" {
			t.Errorf("%s: type %q", r.Name, r.Type)
		}
	}
	brand := c.Responder("brand").Section.(*kitkot.ResponderSection)
	shop := c.Responder("shop").Section.(*kitkot.ResponderSection)
	if brand.SessionKey.Value() != "SESSION-brand-22" || shop.SessionKey.Value() != "SESSION-shop-11" {
		t.Error("each section has its own session key")
	}
	if brand.Rate != "10/m" || shop.Rate != "20/m" || brand.MaxLength != kitkot.DefaultMaxLength {
		t.Errorf("pacing: brand %q, shop %q (each section its own, defaults per section)", brand.Rate, shop.Rate)
	}
	src := c.Source("douyin")
	if src.Type != "douyin" || src.Platform() != "douyin" || src.Section.Base().Responder != "shop" {
		t.Fatalf("source: %+v", src)
	}
	w := src.Section.Watched()
	if len(w) != 2 || w[0].Responder != "" || w[1].Responder != "brand" || w[1].ThreadID != "7251524159191950001" {
		t.Errorf("watched: %+v", w)
	}
	// Every secret of every section is known for scrubbing, none printed.
	secrets := strings.Join(c.Secrets(), " ")
	for _, s := range []string{"KEY-shared-77", "SESSION-shop-11", "SESSION-brand-22", "TOKEN-douyin-33"} {
		if !strings.Contains(secrets, s) {
			t.Errorf("Secrets() misses %s", s)
		}
		if strings.Contains(c.String(), s) {
			t.Errorf("String() shows %s", s)
		}
	}
	wantContains(t, c.String(), `responders.brand.rate = "10/m"`, `responders.shop.type = "kitkot"`,
		`sources.douyin.threads[1].responder = "brand"`)

	// The environment reaches a named section by its name.
	c = mustLoad(t, accounts, "AUTOREPLYD_RESPONDERS__BRAND__DAILY_CAP=7")
	if got := c.Responder("brand").Section.(*kitkot.ResponderSection).DailyCap; got != 7 {
		t.Errorf("daily_cap from the environment: %d", got)
	}
}

// Without `responder`, a source is answered by the section named as its
// platform's default responder type, else by the only section able to.
func TestDefaultResponder(t *testing.T) {
	one := strings.Replace(accounts, "  brand: {type: kitkot, api_key: KEY-shared-77, session_key: SESSION-brand-22, rate: 10/m}\n", "", 1)
	one = strings.Replace(one, "    responder: shop\n", "", 1)
	one = strings.Replace(one, ", responder: brand}", "}", 1)
	if got := mustLoad(t, one).Source("douyin").Section.Base().Responder; got != "shop" {
		t.Errorf("the only kitkot section: %q", got)
	}
	two := strings.Replace(accounts, "    responder: shop\n", "", 1)
	wantContains(t, loadErr(t, two), `sources.douyin.responder: empty, and several responders can answer douyin comments (brand, shop): name one`)
	if got := srcs(mustLoad(t, minimal)).Douyin.Responder; got != "kitkot" {
		t.Errorf("minimal: %q", got)
	}
}

func TestNamedSectionErrors(t *testing.T) {
	tests := []struct{ name, cfg, want string }{
		{"route to a responder that cannot answer the platform", strings.Replace(strings.Replace(accounts, "responder: brand}", "responder: wx}", 1),
			"responders:\n", "responders:\n  wx: {type: wechat, app_id: wx1, app_secret: s}\n", 1),
			`sources.douyin.threads[1].responder: responder "wx" (type wechat) cannot answer douyin comments: it answers wechat`},
		{"route to nothing", strings.Replace(accounts, "responder: brand}", "responder: nobody}", 1),
			`sources.douyin.threads[1].responder: unknown responder "nobody" (configured: brand, shop)`},
		{"route is not a name", strings.Replace(accounts, "responder: brand}", "responder: Brand}", 1),
			`sources.douyin.threads[1].responder: "Brand" is not a section name`},
		{"source routed to a type not configured", strings.Replace(accounts, "responder: shop", "responder: weibo", 1),
			`sources.douyin.responder: responder "weibo" is not configured: add a responders.weibo section`},
		{"unknown type", strings.Replace(accounts, "type: kitkot, api_key: KEY-shared-77, session_key: SESSION-shop-11", "type: kitkat", 1),
			`responders.shop.type: unknown responder type "kitkat" (known: kitkot, wechat, weibo)`},
		{"a source type as a responder", strings.Replace(accounts, "type: kitkot, api_key: KEY-shared-77, session_key: SESSION-shop-11", "type: tiktok", 1),
			`responders.shop.type: unknown responder type "tiktok"`},
		{"untyped name that is no type", strings.Replace(accounts, "  douyin:\n", "  douyin-shop:\n", 1),
			`sources.douyin-shop: unknown source "douyin-shop": a section's name is its type (douyin, tiktok, wechat, weibo) unless the section sets ` + "`type`"},
		{"bad section name", strings.Replace(accounts, "  shop:  {", "  Shop:  {", 1),
			`responders.Shop: "Shop" is not a section name`},
		{"type not a string", strings.Replace(accounts, "type: kitkot, api_key: KEY-shared-77, session_key: SESSION-shop-11", "type: [kitkot]", 1),
			`responders.shop.type: expected a responder type name`},
		{"a key of another type", strings.Replace(accounts, "rate: 10/m}", "rate: 10/m, app_id: wx1}", 1),
			`responders.brand.app_id: unknown key`},
		{"a secret missing in a named section", strings.Replace(accounts, ", session_key: SESSION-brand-22", "", 1),
			`responders.brand.session_key: missing (set session_key or session_key_file)`},
		{"one thread in two sections", accounts + `  douyin-brand:
    type: douyin
    token: TOKEN-douyin-33
    responder: brand
    threads: [{comment_id: "7251524159191950001"}]
`, `sources.douyin-brand.threads[0]: thread 7251524159191950001 is also watched by sources.douyin.threads[1]: watch a thread in one section only`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := loadErr(t, tt.cfg)
			wantContains(t, msg, tt.want)
			for _, s := range []string{"KEY-shared-77", "SESSION-shop-11", "SESSION-brand-22", "TOKEN-douyin-33"} {
				if strings.Contains(msg, s) {
					t.Errorf("the error shows a secret:\n%s", msg)
				}
			}
		})
	}
}

// Two WeChat accounts: two source sections of one type, each with its app.
func TestTwoWechatSources(t *testing.T) {
	c := mustLoad(t, `
sources:
  wechat-a: {type: wechat, app_id: wxa, app_secret: SA, articles: [{msg_data_id: "2247483647", index: 0}]}
  wechat-b: {type: wechat, app_id: wxb, app_secret: SB, articles: [{msg_data_id: "2247483648", index: 0}], responder: wechat-b}
responders:
  wechat:   {app_id: wxa, app_secret: SA}
  wechat-b: {type: wechat, app_id: wxb, app_secret: SB}
`)
	a := c.Source("wechat-a").Section.(*wechat.SourceSection)
	b := c.Source("wechat-b").Section.(*wechat.SourceSection)
	if a.AppID != "wxa" || b.AppID != "wxb" || a.Responder != "wechat" || b.Responder != "wechat-b" {
		t.Errorf("a %+v, b %+v", a.SourceBase, b.SourceBase)
	}
	if _, ok := c.Source("wechat-a").Section.(*douyin.Section); ok {
		t.Error("type confusion")
	}
}
