package main

import (
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/ratelimit"
)

// parseConfig parses serve's flags with the environment the test set.
func parseConfig(t *testing.T, args ...string) (config, error) {
	t.Helper()
	var c config
	if err := newFlagSet("serve", &c, io.Discard).Parse(args); err != nil {
		return c, err
	}
	return c, c.validate()
}

func TestConfigGroups(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"presale,aftersale", []string{"presale", "aftersale"}, ""},
		{" presale , aftersale, vip ,", []string{"presale", "aftersale", "vip"}, ""},
		{"sales,aftersale", []string{"sales", "aftersale"}, ""},
		{"presale", nil, `"aftersale" must be one of them`},
		{"presale,aftersale,Presale", nil, "lowercase"},
		{"presale,aftersale,presale", nil, "twice"},
	} {
		t.Setenv("KEFU_GROUPS", tc.in)
		c, err := parseConfig(t)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("KEFU_GROUPS=%q: error %v, want one saying %q", tc.in, err, tc.err)
			}
			continue
		}
		got, _ := c.groups()
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("KEFU_GROUPS=%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestConfigDurations(t *testing.T) {
	c, err := parseConfig(t)
	if err != nil || c.QueueTimeout != 10*time.Minute || c.ReopenWindow != 30*time.Minute {
		t.Errorf("defaults: %v, %v, %v; want 10m, 30m", c.QueueTimeout, c.ReopenWindow, err)
	}
	t.Setenv("KEFU_QUEUE_TIMEOUT", "0")
	t.Setenv("KEFU_REOPEN_WINDOW", "5m")
	if c, err := parseConfig(t); err != nil || c.QueueTimeout != 0 || c.ReopenWindow != 5*time.Minute || offIfZero(c.QueueTimeout) >= 0 {
		t.Errorf("0 and 5m: %v, %v, %v; want off and 5m", c.QueueTimeout, c.ReopenWindow, err)
	}
	t.Setenv("KEFU_QUEUE_TIMEOUT", "10 minutes")
	if _, err := parseConfig(t); err == nil || !strings.Contains(err.Error(), "KEFU_QUEUE_TIMEOUT") {
		t.Errorf("an unparsable KEFU_QUEUE_TIMEOUT: error %v, want one naming it", err)
	}
	t.Setenv("KEFU_QUEUE_TIMEOUT", "")
	if _, err := parseConfig(t, "-reopen-window", "-1m"); err == nil || !strings.Contains(err.Error(), "reopen window") {
		t.Errorf("a negative reopen window: error %v, want one naming it", err)
	}
}

func TestConfigDataDir(t *testing.T) {
	t.Setenv("KEFU_DATA_DIR", "")
	os.Unsetenv("KEFU_DATA_DIR") // restored by Setenv when the test ends
	if c, err := parseConfig(t); err != nil || c.DataDir != "./kefu-data" {
		t.Errorf("default data directory %q, %v; want ./kefu-data", c.DataDir, err)
	}
	t.Setenv("KEFU_DATA_DIR", "/var/lib/kefu")
	if c, err := parseConfig(t); err != nil || c.DataDir != "/var/lib/kefu" {
		t.Errorf("KEFU_DATA_DIR=/var/lib/kefu: %q, %v", c.DataDir, err)
	}
	if _, err := parseConfig(t, "-data", " "); err == nil || !strings.Contains(err.Error(), "data directory") {
		t.Errorf("an empty data directory: error %v, want one naming it", err)
	}
}

func TestConfigTimezone(t *testing.T) {
	c, err := parseConfig(t)
	if loc, lerr := c.location(); err != nil || lerr != nil || loc.String() != "Asia/Shanghai" {
		t.Errorf("default time zone: %v, %v, %v; want Asia/Shanghai", loc, err, lerr)
	}
	t.Setenv("KEFU_TIMEZONE", "Europe/Berlin")
	if c, err := parseConfig(t); err != nil || c.Timezone != "Europe/Berlin" {
		t.Errorf("KEFU_TIMEZONE=Europe/Berlin: %q, %v", c.Timezone, err)
	}
	t.Setenv("KEFU_TIMEZONE", "Mars/Olympus")
	if _, err := parseConfig(t); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("an unknown time zone: error %v, want one naming it", err)
	}
}

func TestConfigRetention(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"", 180 * day, false}, {"180", 180 * day, false}, {"30d", 30 * day, false}, {"720h", 30 * day, false},
		{"0", 0, false}, {"off", 0, false}, {"OFF", 0, false},
		{"-5", 0, true}, {"soon", 0, true}, {"30m", 0, true},
	} {
		if tc.in == "" {
			os.Unsetenv("KEFU_RETENTION")
		} else {
			t.Setenv("KEFU_RETENTION", tc.in)
		}
		c, err := parseConfig(t)
		if tc.err {
			if err == nil || !strings.Contains(err.Error(), "retention") {
				t.Errorf("KEFU_RETENTION=%q: error %v, want one naming retention", tc.in, err)
			}
			continue
		}
		if got, _ := c.retention(); err != nil || got != tc.want {
			t.Errorf("KEFU_RETENTION=%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestConfigLimits(t *testing.T) {
	c, err := parseConfig(t)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.rateLimits(); !slices.Equal(got, defaultLimits()) || c.rateLimitsOff() || c.BotAPILLM {
		t.Errorf("defaults: limits %v, off %v, bot API LLM %v; want the defaults, on, off", got, c.rateLimitsOff(), c.BotAPILLM)
	}
	if d, _ := c.unattended(); d != 7*24*time.Hour {
		t.Errorf("unattended retention %v, want 7 days", d)
	}
	t.Setenv("KEFU_RATE_LIMITS", "handoff=5/1h,ask=off")
	t.Setenv("KEFU_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
	t.Setenv("KEFU_BOT_API_LLM", "on")
	t.Setenv("KEFU_UNATTENDED_RETENTION", "off")
	c, err = parseConfig(t)
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := c.rateLimits()
	if h := ratelimit.Find(rules, "handoff"); h != ratelimit.Per("handoff", 5, time.Hour) || !ratelimit.Find(rules, "ask").Off() {
		t.Errorf("KEFU_RATE_LIMITS=handoff=5/1h,ask=off: %v", rules)
	}
	if p, _ := c.trustedProxies(); len(p) != 2 || !c.BotAPILLM {
		t.Errorf("proxies %v, bot API LLM %v", p, c.BotAPILLM)
	}
	if d, _ := c.unattended(); d != 0 {
		t.Errorf("KEFU_UNATTENDED_RETENTION=off: %v", d)
	}
	t.Setenv("KEFU_RATE_LIMITS", "off")
	if c, _ := parseConfig(t); !c.rateLimitsOff() {
		t.Error("KEFU_RATE_LIMITS=off does not turn the limits off")
	}
	for env, bad := range map[string]string{
		"KEFU_RATE_LIMITS":          "handof=5/1h",
		"KEFU_TRUSTED_PROXIES":      "proxy.local",
		"KEFU_UNATTENDED_RETENTION": "soon",
	} {
		t.Setenv(env, bad)
		if _, err := parseConfig(t); err == nil {
			t.Errorf("%s=%q accepted", env, bad)
		}
		os.Unsetenv(env)
	}
}
