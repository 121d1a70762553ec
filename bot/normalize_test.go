package bot_test

import (
	"testing"

	"github.com/kefu-im/kefu/bot"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain chinese", "可以开发票吗", "可以开发票吗"},
		{"full-width punctuation", "可以开发票吗？！", "可以开发票吗?!"},
		{"full-width brackets", "（顺丰）", "(顺丰)"},
		{"full-width letters", "ＡＢＣ", "abc"},
		{"full-width digits", "１２３４５", "12345"},
		{"full-width edges", "！～", "!~"},
		{"ideographic space", "发票\u3000抬头", "发票 抬头"},
		{"upper case", "Talk To A HUMAN", "talk to a human"},
		{"mixed", "ＶＩＰ会员　Points", "vip会员 points"},
		{"whitespace run", "发票  \t\n 抬头", "发票 抬头"},
		{"leading and trailing", " \u3000\t退货\n\u3000 ", "退货"},
		{"only whitespace", "\u3000 \t\n", ""},
		{"not full-width", "￥100", "￥100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bot.Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeIdempotent(t *testing.T) {
	for _, s := range []string{"（可以开发票吗？）", "ＡＢＣ　ｄｅｆ", " Talk  to\u3000A human "} {
		once := bot.Normalize(s)
		if twice := bot.Normalize(once); twice != once {
			t.Errorf("Normalize(Normalize(%q)) = %q, want %q", s, twice, once)
		}
	}
}
