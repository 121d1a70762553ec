package bot

import "testing"

func TestTrimSmallTalk(t *testing.T) {
	for in, want := range map[string]string{
		"你好，我想退货":                  "我想退货",
		"亲在吗 能开发票吗":                "能开发票吗",
		"好的 那运费呢":                  "那运费呢",
		"谢谢！请问支持花呗吗":               "请问支持花呗吗",
		"hi, where is my order":    "where is my order",
		"hello there do you ship?": "do you ship?",
		"ok, when will it arrive":  "when will it arrive",
		"hi sir, is it genuine":    "is it genuine",
		// Not an opening: no separator, an acknowledgement before English, or nothing
		// after it.
		"你好我想退货":                      "你好我想退货",
		"好评返现吗":                       "好评返现吗",
		"great quality?":              "great quality?",
		"yes i am new":                "yes i am new",
		"ok i need delivery tomorrow": "ok i need delivery tomorrow",
		"你好 在吗":                       "你好 在吗",
		"客服 能开发票吗":                    "客服 能开发票吗",
	} {
		if got := trimSmallTalk(Normalize(in)); got != want {
			t.Errorf("trimSmallTalk(%q) = %q, want %q", in, got, want)
		}
	}
}
