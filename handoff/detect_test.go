package handoff

import (
	"slices"
	"testing"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"订单号2024052012345678901，手机13812345678", []string{"order 2024052012345678901 2024***********8901", "phone 13812345678 138****5678"}},
		{"单号 JD1234567890123 电话 138-1234-5678", []string{"order JD1234567890123 JD12*******0123", "phone 13812345678 138****5678"}},
		{"电话138 1234 5678和13812345678", []string{"phone 13812345678 138****5678"}},
		{"123456789012345（15 位）、12812345678、138123456789", nil},
		{"价格 199 元，SKU A12", nil},
	} {
		var got []string
		for _, d := range Detect(tc.text) {
			got = append(got, d.Kind+" "+d.Value+" "+d.Masked)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Detect(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
