package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rule is one named limit: Burst requests at once, then one more every Every. A Rule
// with a Burst of 0 is off: Allow always lets it through.
type Rule struct {
	// Name names the rule in keys, logs and the KEFU_RATE_LIMITS setting.
	Name string
	// Burst is how many requests a fresh subject may make at once.
	Burst int
	// Every is how often one more request is allowed once the burst is spent.
	Every time.Duration
}

// Per returns the rule that allows n requests at once, refilled at n per period.
func Per(name string, n int, period time.Duration) Rule {
	if n <= 0 {
		return Rule{Name: name}
	}
	return Rule{Name: name, Burst: n, Every: period / time.Duration(n)}
}

// Off reports whether the rule lets everything through.
func (r Rule) Off() bool { return r.Burst <= 0 || r.Every <= 0 }

// String writes the rule the way ParseRules reads it: "name=N/PERIOD".
func (r Rule) String() string {
	if r.Off() {
		return r.Name + "=off"
	}
	return fmt.Sprintf("%s=%d/%v", r.Name, r.Burst, r.Every*time.Duration(r.Burst))
}

// ParseRules reads a list of rules such as "conversation=30/10m,handoff=10/10m" into
// defaults: each entry "name=N/PERIOD" allows N requests at once, refilled at N per
// PERIOD (a Go duration: 30s, 10m, 1h); "name=off" turns one rule off; the whole
// value "off" turns every rule off. Names must be those of defaults, so that a typo
// is an error rather than a limit silently not applied. An empty value keeps the
// defaults.
func ParseRules(s string, defaults []Rule) ([]Rule, error) {
	rules := append([]Rule(nil), defaults...)
	s = strings.TrimSpace(s)
	if s == "" {
		return rules, nil
	}
	if s == "off" {
		for i := range rules {
			rules[i] = Rule{Name: rules[i].Name}
		}
		return rules, nil
	}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, value, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("rate limit %q: want name=N/PERIOD", entry)
		}
		name = strings.TrimSpace(name)
		i := index(rules, name)
		if i < 0 {
			return nil, fmt.Errorf("rate limit %q: unknown name %q (known: %s)", entry, name, names(defaults))
		}
		r, err := parseValue(name, strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("rate limit %q: %w", entry, err)
		}
		rules[i] = r
	}
	return rules, nil
}

func parseValue(name, v string) (Rule, error) {
	if v == "off" {
		return Rule{Name: name}, nil
	}
	ns, ps, ok := strings.Cut(v, "/")
	if !ok {
		return Rule{}, fmt.Errorf("want N/PERIOD, such as 10/10m, or off")
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n <= 0 {
		return Rule{}, fmt.Errorf("count %q: want a whole number above 0", ns)
	}
	period, err := time.ParseDuration(ps)
	if err != nil || period <= 0 {
		return Rule{}, fmt.Errorf("period %q: want a duration above 0, such as 30s or 10m", ps)
	}
	if period/time.Duration(n) < time.Millisecond {
		return Rule{}, fmt.Errorf("%d per %v is more than one a millisecond", n, period)
	}
	return Per(name, n, period), nil
}

// Find returns the rule named name in rules, or an off rule of that name.
func Find(rules []Rule, name string) Rule {
	if i := index(rules, name); i >= 0 {
		return rules[i]
	}
	return Rule{Name: name}
}

func index(rules []Rule, name string) int {
	for i, r := range rules {
		if r.Name == name {
			return i
		}
	}
	return -1
}

func names(rules []Rule) string {
	s := make([]string, len(rules))
	for i, r := range rules {
		s[i] = r.Name
	}
	return strings.Join(s, ", ")
}
