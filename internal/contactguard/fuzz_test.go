package contactguard

import (
	"testing"
	"unicode/utf8"
)

// FuzzGuard: the guard never panics, Normalize is idempotent, and an invisible character
// inserted anywhere never hides a finding.
func FuzzGuard(f *testing.F) {
	for _, s := range []string{
		"电话 13812345678", "138/1234/5678", "壹叁捌壹贰叁肆伍陆柒捌", "wei xin: kefu_shop",
		"me [at] example (dot) com", "evil。com", "订单号 2024051213812345678", "①③⑧①②③④⑤⑥⑦⑧",
		"a。。b (dot) (at) x", "q q q 123456", "微 v 信 abcdef1", "\xff\xfe138", "é\u0301\u200b",
		"https://shop.example.com/a。谢谢", "x at y dot com at z.cn",
	} {
		f.Add(s)
	}
	g := New([]string{"shop.example.com"})
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize(%q) = %q, but Normalize of that = %q", s, n, again)
		}
		if len(s) > 200 {
			return // the insertions below check a text once per character
		}
		found := g.Check(s)
		if len(found) == 0 || !utf8.ValidString(s) {
			return
		}
		for i := range s {
			for _, zw := range []string{"\u200b", "\u202e", "\ufeff"} {
				if len(g.Check(s[:i]+zw+s[i:])) == 0 {
					t.Fatalf("Check(%q) = %v, but with %q at %d nothing", s, found, zw, i)
				}
			}
		}
	})
}
