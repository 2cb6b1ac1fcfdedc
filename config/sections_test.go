package config

import (
	"github.com/autoreplyd/autoreplyd/platform/douyin"
	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/platform/wechat"
	"github.com/autoreplyd/autoreplyd/platform/weibo"
)

// testSources are the sections named as their platform type, typed, for
// tests written against the default section names; nil when absent.
type testSources struct {
	Douyin *douyin.Section
	TikTok *kitkot.SourceSection
	Wechat *wechat.SourceSection
	Weibo  *weibo.SourceSection
}

type testResponders struct {
	Kitkot *kitkot.ResponderSection
	Wechat *wechat.ResponderSection
	Weibo  *weibo.ResponderSection
}

func srcs(c *Config) testSources {
	var out testSources
	if s := c.Source("douyin"); s != nil {
		out.Douyin = s.Section.(*douyin.Section)
	}
	if s := c.Source("tiktok"); s != nil {
		out.TikTok = s.Section.(*kitkot.SourceSection)
	}
	if s := c.Source("wechat"); s != nil {
		out.Wechat = s.Section.(*wechat.SourceSection)
	}
	if s := c.Source("weibo"); s != nil {
		out.Weibo = s.Section.(*weibo.SourceSection)
	}
	return out
}

func resps(c *Config) testResponders {
	var out testResponders
	if r := c.Responder("kitkot"); r != nil {
		out.Kitkot = r.Section.(*kitkot.ResponderSection)
	}
	if r := c.Responder("wechat"); r != nil {
		out.Wechat = r.Section.(*wechat.ResponderSection)
	}
	if r := c.Responder("weibo"); r != nil {
		out.Weibo = r.Section.(*weibo.ResponderSection)
	}
	return out
}
