package config

import (
	"os"
	"regexp"
	"strings"
)

// maxInstance is the longest instance name: the key of a row the daemons
// sharing a database write every few seconds, and a label of their logs.
const maxInstance = 64

// validInstance is what an instance name given in the config must be: a
// host name's characters, starting with a letter or digit.
var validInstance = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// fallbackInstance names the instance when the host has no usable name.
const fallbackInstance = "autoreplyd"

// DefaultInstance is the instance name a config without `instance` takes:
// the host name, lower-cased, with every character outside [a-z0-9._-]
// replaced by '-', cut to 64 characters. Two daemons on one host need
// `instance` set; on two hosts the default already tells them apart.
func DefaultInstance() string {
	h, err := os.Hostname()
	if err != nil {
		return fallbackInstance
	}
	return instanceOf(h)
}

// instanceOf is the instance name DefaultInstance makes of host name h.
func instanceOf(h string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, strings.ToLower(h))
	// Cut by bytes: every character left is one byte.
	if len(name) > maxInstance {
		name = name[:maxInstance]
	}
	if name == "" {
		return fallbackInstance
	}
	return name
}

// validateInstance checks an instance name given in the config, or fills
// the default.
func (c *Config) validateInstance(p *problems) {
	if c.Instance == "" {
		c.Instance = DefaultInstance()
		return
	}
	if !validInstance.MatchString(c.Instance) {
		p.addf("instance", "%q is not a valid instance name: 1 to %d letters, digits, '.', '_' or '-', starting with a letter or digit (each daemon sharing a database needs its own)", c.Instance, maxInstance)
	}
}
