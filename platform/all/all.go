// Package all registers every platform API autoreplyd ships with the
// platform registry. Adding a platform is one line here (and its package,
// its imitation in simulator/, its docs page).
package all

import (
	_ "github.com/autoreplyd/autoreplyd/platform/douyin" // sources.douyin (JustOneAPI)
	_ "github.com/autoreplyd/autoreplyd/platform/kitkot" // sources.tiktok, responders.kitkot
	_ "github.com/autoreplyd/autoreplyd/platform/wechat" // sources.wechat, responders.wechat
	_ "github.com/autoreplyd/autoreplyd/platform/weibo"  // sources.weibo, responders.weibo
)
