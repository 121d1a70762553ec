package handoff

import (
	"strings"
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

func TestReplyGuard(t *testing.T) {
	g := NewReplyGuard([]string{"shop.example.com", "Tmall.com"})
	for _, tc := range []struct {
		text string
		want string // the kinds and masks found, "kind masked; …"; empty for none
	}{
		// Mobile numbers, however they are written.
		{"我的电话是13812345678", "phone 138******78"},
		{"加我 138 1234 5678 详聊", "phone 138******78"},
		{"138-1234-5678", "phone 138******78"},
		{"+86 13812345678", "phone 861********78"},
		{"+8613812345678", "phone 861********78"},
		{"86-138-1234-5678", "phone 861********78"},
		{"１３８１２３４５６７８", "phone 138******78"},
		{"幺三八一二三四五六七八", "phone 138******78"},
		{"一三八一二三四五六七八", "phone 138******78"},
		{"订单号2024051212345 13812345678 联系我", "phone 138******78"},
		{"微信同号19912345678", "phone 199******78"},
		// Landlines and service numbers.
		{"座机010-12345678", "landline 010******78"},
		{"(0755)12345678", "landline 075*******78"},
		{"请致电 021 6123 4567", "landline 021******67"},
		{"拨打热线 400-123-4567", "landline 400*****67"},
		{"电话 6123 4567", "landline 612***67"},
		// QQ, WeChat, e-mail.
		{"加我QQ 12345678", "qq 12*****8"},
		{"QQ：987654321", "qq 98******1"},
		{"qq号码123456", "qq 12***6"},
		{"QQ群 556677889", "qq 55******9"},
		{"扣扣 12345678", "qq 12*****8"},
		{"微信：kefu_shop", "wechat ke*******"},
		{"vx abc12345", "wechat ab******"},
		{"加V：zhangsan", "wechat zh******"},
		{"WeChat: shop-2024", "wechat sh*******"},
		{"wx号 tb_seller01", "wechat tb*********"},
		{"发邮件到 service@other-shop.com", "email s***@other-shop.com"},
		// Links.
		{"去这里买 https://cheap.example.net/item?id=1", "link cheap.example.net"},
		{"http://10.0.0.1/x", "link 10.0.0.1"},
		{"看 www.othershop.com", "link www.othershop.com"},
		{"点 m.tb.cn/h.abc 领券", "link m.tb.cn"},
		{"我们店 https://shop.example.com/item/1 有货", ""},
		{"详情 https://detail.tmall.com/item.htm?id=123456789012", ""},
		{"活动页 https://evil-shop.example.com.cn/", "link evil-shop.example.com.cn"},
		{"两个：13812345678 和 QQ 12345678", "qq 12*****8; phone 138******78"},

		// Not contact details: orders, waybills, prices, dates, times, counts.
		{"您的订单号是 13812345678，已发货", ""},
		{"订单号：240512-138123456789012", ""},
		{"单号 4312345678901 已揽收", ""},
		{"快递单号SF1381234567890", ""},
		{"运单号 YT1381234567890", ""},
		{"订单 2024051213812345678 已退款", ""},
		{"总价 ¥138.00，优惠 12 元", ""},
		{"价格 13812 元", ""},
		{"2024-05-12 13:30 发货", ""},
		{"2024年5月12日前发货", ""},
		{"预计 3-5 天送达", ""},
		{"型号 X13812345678", ""},
		{"尺码 170/88A", ""},
		{"您的订单 20240512138123 已出库", ""},
		{"商品编号 100012345678", ""},
		{"库存还有 1234 件", ""},
		{"请用微信支付", ""},
		{"可以用微信 scan 一下", ""},
		{"亲，已经为您备注加急了", ""},
		{"版本 1.3.8", ""},
		{"重量 1.5kg，尺寸 30x20x10cm", ""},
		{"满 300 减 30，叠加 5 折", ""},
		{"图片 IMG_13812345678.jpg", ""},
		{"请提供订单号，我帮您查一下", ""},
		{"您好！很高兴为您服务，请问有什么可以帮到您？", ""},
		{"尾号5678的手机下单即可", ""},
		{"正常情况下 48 小时内发货", ""},
	} {
		var got []string
		for _, f := range g.Check(tc.text) {
			got = append(got, f.Kind+" "+f.Masked)
			if f.Label == "" {
				t.Errorf("Check(%q): finding %+v has no label", tc.text, f)
			}
		}
		if s := strings.Join(got, "; "); s != tc.want {
			t.Errorf("Check(%q) = %q, want %q", tc.text, s, tc.want)
		}
	}
}

// TestReplyGuardNoAllowlist: without an allowlist every link is outside.
func TestReplyGuardNoAllowlist(t *testing.T) {
	if got := NewReplyGuard(nil).Check("https://shop.example.com/a"); len(got) != 1 || got[0].Kind != FindLink {
		t.Errorf("Check with no allowed hosts = %+v, want one link", got)
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
	} {
		_, err := checkCanned(tc.list, g)
		if (err == nil) != tc.ok {
			t.Errorf("%s: checkCanned = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
