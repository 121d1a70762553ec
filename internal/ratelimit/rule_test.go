package ratelimit

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRules(t *testing.T) {
	defaults := []Rule{Per("conversation", 30, 10*time.Minute), Per("handoff", 10, 10*time.Minute)}
	tests := []struct {
		in      string
		want    []Rule
		wantErr string
	}{
		{"", defaults, ""},
		{"off", []Rule{{Name: "conversation"}, {Name: "handoff"}}, ""},
		{"handoff=5/1h", []Rule{defaults[0], Per("handoff", 5, time.Hour)}, ""},
		{" conversation = off , handoff=20/30s ", []Rule{{Name: "conversation"}, Per("handoff", 20, 30*time.Second)}, ""},
		{"handof=5/1h", nil, "unknown name"},
		{"handoff", nil, "want name=N/PERIOD"},
		{"handoff=5", nil, "want N/PERIOD"},
		{"handoff=0/1h", nil, "above 0"},
		{"handoff=x/1h", nil, "whole number"},
		{"handoff=5/soon", nil, "duration"},
		{"handoff=5000/1s", nil, "more than one a millisecond"},
	}
	for _, tt := range tests {
		got, err := ParseRules(tt.in, defaults)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRules(%q): err %v, want one saying %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseRules(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if s := Per("handoff", 10, 10*time.Minute).String(); s != "handoff=10/10m0s" {
		t.Errorf("String() = %q", s)
	}
}
