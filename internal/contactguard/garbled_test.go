package contactguard

import "testing"

func TestGarbled(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"", false},
		{"您好，请问有什么可以帮到您？", false},
		{"第一行\n第二行\t缩进\r\n", false},
		{"👨\u200d👩\u200d👧 一家人", false},
		{"مرحبا\u200f 你好", false}, // a right-to-left mark is a mark, not an override
		{"❤\ufe0f", false},
		{"bad \xff byte", true},
		{"\xe4\xb8", true},
		{"replaced \ufffd", true},
		{"nul \x00 inside", true},
		{"bell \x07", true},
		{"c1 \u0085", true},
		{"订单\u202e87654321", true},
		{"\u2066isolate\u2069", true},
		{"\u200b", true},
		{"\u200b\u200c\u200d\ufeff", true},
		{" \u200b \u2060 ", true},
	} {
		if got := Garbled(tc.text); got != tc.want {
			t.Errorf("Garbled(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
