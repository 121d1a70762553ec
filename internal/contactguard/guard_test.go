package contactguard

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	g := New([]string{"shop.example.com", "Tmall.com"})
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

// TestNoAllowlist: without an allowlist every link is outside.
func TestNoAllowlist(t *testing.T) {
	if got := New(nil).Check("https://shop.example.com/a"); len(got) != 1 || got[0].Kind != FindLink {
		t.Errorf("Check with no allowed hosts = %+v, want one link", got)
	}
}

// TestCheckBypasses: the ways of writing a contact detail so that it looks the same to a
// shopper and slips past a guard that reads characters, and ordinary replies that look a
// little like them and must pass.
func TestCheckBypasses(t *testing.T) {
	g := New([]string{"shop.example.com"})
	for _, tc := range []struct {
		text string
		want string
	}{
		// Invisible characters inside a number or a word.
		{"电话 138\u200b1234\u200b5678", "phone 138******78"},
		{"1\u200c3\u200d8\u20601234\ufeff5678", "phone 138******78"},
		{"138\u202e1234\u202c5678", "phone 138******78"},
		{"加微\u200b信：kefu_shop", "wechat ke*******"},
		{"Q\u200bQ 12345678", "qq 12*****8"},
		// Separators between digits.
		{"138/1234/5678", "phone 138******78"},
		{"138_1234_5678", "phone 138******78"},
		{"138 - 1234 - 5678", "phone 138******78"},
		{"138*1234*5678", "phone 138******78"},
		{"138·1234·5678", "phone 138******78"},
		{"1 3 8 1 2 3 4 5 6 7 8", "phone 138******78"},
		// Circled, parenthesised and other digits.
		{"①③⑧①②③④⑤⑥⑦⑧", "phone 138******78"},
		{"❶❸❽❶❷❸❹❺❻❼❽", "phone 138******78"},
		{"➀➂➇➀➁➂➃➄➅➆➇", "phone 138******78"},
		{"⑴⑶⑻⑴⑵⑶⑷⑸⑹⑺⑻", "phone 138******78"},
		{"𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "phone 138******78"},
		{"１３８－１２３４－５６７８", "phone 138******78"},
		// Chinese numerals, alone or mixed with digits.
		{"壹叁捌壹贰叁肆伍陆柒捌", "phone 138******78"},
		{"幺三八 一二三四 五六七八", "phone 138******78"},
		{"1三8一二三4五六七8", "phone 138******78"},
		{"㈠㈢㈧㈠㈡㈢㈣㈤㈥㈦㈧", "phone 138******78"},
		// WeChat and QQ spelled out.
		{"wei xin: kefu_shop", "wechat ke*******"},
		{"加weixin kefu_2024", "wechat ke*******"},
		{"we chat号 shop-2024", "wechat sh*******"},
		{"V 信 tb_seller01", "wechat tb*********"},
		{"威信号 tb_seller01", "wechat tb*********"},
		{"薇信：kefu_shop", "wechat ke*******"},
		{"ｖｘ：kefu_shop", "wechat ke*******"},
		{"扣扣号 12345678", "qq 12*****8"},
		{"q q 12345678", "qq 12*****8"},
		{"qq号123456", "qq 12***6"},
		// Dots and at signs spelled out.
		{"去 evil。com 买", "link evil.com"},
		{"去 evil．com 买", "link evil.com"},
		{"evil(dot)com", "link evil.com"},
		{"evil [dot] com", "link evil.com"},
		{"evil dot com", "link evil.com"},
		{"evil点com", "link evil.com"},
		{"me(at)example.com", "email m***@example.com"},
		{"me [at] example (dot) com", "email m***@example.com"},
		{"me at example dot com", "email m***@example.com"},
		{"me#qq.com", "email m***@qq.com"},
		{"me＠qq。com", "email m***@qq.com"},

		// Ordinary replies that must pass.
		{"订单号：2024/05/12-0001", ""},
		{"2024/05/12 发货", ""},
		{"规格 170/88A，颜色 黑色", ""},
		{"下午5点30分前下单当天发货", ""},
		{"一二三四五，上山打老虎", ""},
		{"七七八八都准备好了", ""},
		{"退款会在三五个工作日内原路返回", ""},
		{"亲，我们的邮箱地址请在店铺首页查看", ""},
		{"at 3 pm we close", ""},
		{"this is a dot in the text", ""},
		{"I will chat with the team", ""},
		{"#12345 工单已处理", ""},
		{"满 300 减 30，叠加 5 折", ""},
		{"价格 ¥1,380.00", ""},
		{"您的运单号 SF1381234567890，请查收", ""},
		{"👨\u200d👩\u200d👧 一家人都适用", ""},
		{"1/2 的概率", ""},
		{"详情见 https://shop.example.com/a。谢谢", ""},
		{"商品 ① 和商品 ② 都有货", ""},
	} {
		var got []string
		for _, f := range g.Check(tc.text) {
			got = append(got, f.Kind+" "+f.Masked)
		}
		if s := strings.Join(got, "; "); s != tc.want {
			t.Errorf("Check(%q) = %q, want %q (normalized %q)", tc.text, s, tc.want, Normalize(tc.text))
		}
	}
}

// BenchmarkCheckLong: a reply of the longest kind, full of numbers.
func BenchmarkCheckLong(b *testing.B) {
	text := strings.Repeat("订单 20240512 共 3 件 ¥138.00，", 80) // 2,000 characters
	g := New(nil)
	for b.Loop() {
		g.Check(text)
	}
}

// BenchmarkCheckReplies: the replies agents send all day, most with no number at all.
func BenchmarkCheckReplies(b *testing.B) {
	replies := []string{
		"亲，您好！很高兴为您服务，请问有什么可以帮您？",
		"您的订单已经发货了，预计2-3天送达，请耐心等待哦～",
		"好的，已为您登记，售后专员会在24小时内联系您。",
		"这款是纯棉的，尺码偏大，建议您选小一码。",
		"亲，7天无理由退货需要商品不影响二次销售，吊牌请保留哦。",
		"退款已经原路退回，一般1-3个工作日到账，请留意。",
		"订单 20240512883 的运单号是 SF1234567890，您可以在物流页面查看。",
		"Hello! Your parcel left our warehouse today and should arrive within 3 days.",
		"不客气，还有其他可以帮您的吗？",
		"亲，这边帮您申请了5元无门槛优惠券，下单时会自动使用。",
	}
	g := New(nil)
	for b.Loop() {
		for _, r := range replies {
			g.Check(r)
		}
	}
}
