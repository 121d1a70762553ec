package handoff

import (
	"testing"
)

func TestIsShortReply(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"嗯", true},
		{"嗯嗯", true},
		{"恩。", true},
		{"好", true},
		{"好的", true},
		{"好的！", true},
		{"哦~", true},
		{"哦哦哦", true},
		{"行", true},
		{"行吧", true},
		{"OK", true},
		{"ok!", true},
		{" Okay ", true},
		{"哈哈", true},
		{"在的", true},
		{"是的。", true},
		{"嗯👍", true},
		{"👍", true},
		{"😊😊", true},
		{"。。。", true},
		{"收到", true},
		{"可以", true},
		{"好的，马上为您处理", false},
		{"好的亲，请稍等", false},
		{"在的亲", false},
		{"您好，请问有什么可以帮到您？", false},
		{"可以的，支持七天无理由退货", false},
		{"请稍等", false},
		{"谢谢", false},
		{"不客气，祝您购物愉快", false},
		{"", false},
		{"   ", false},
		{"OK，已为您改好地址", false},
		{"123456", false},
	} {
		if got := IsShortReply(tc.text); got != tc.want {
			t.Errorf("IsShortReply(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestCheckCanned(t *testing.T) {
	g := NewReplyGuard(nil)
	for _, tc := range []struct {
		name string
		list []CannedReply
		ok   bool
	}{
		{"good", []CannedReply{{Key: "greeting", Title: "问候", Text: "您好，客服{agent}为您服务"}}, true},
		{"no key", []CannedReply{{Text: "您好"}}, false},
		{"no text", []CannedReply{{Key: "a"}}, false},
		{"twice", []CannedReply{{Key: "a", Text: "请稍等，马上为您查询"}, {Key: "a", Text: "请稍等片刻"}}, false},
		{"short", []CannedReply{{Key: "a", Text: "好的"}}, false},
		{"contact", []CannedReply{{Key: "a", Text: "有问题请拨打 13812345678"}}, false},
		{"hidden contact", []CannedReply{{Key: "a", Text: "有问题请拨打 138\u200b1234\u200b5678"}}, false},
		{"garbled", []CannedReply{{Key: "a", Text: "请稍等\x00马上为您查询"}}, false},
	} {
		_, err := checkCanned(tc.list, g)
		if (err == nil) != tc.ok {
			t.Errorf("%s: checkCanned = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
