package kb

// synonymGroups lists terms that mean the same to a shopper. The first term of each
// group is the canonical one. Chinese terms are two characters: the analyzer indexes Han
// text as bigrams, so a synonym must be one bigram. English terms are Porter stems.
var synonymGroups = [][]string{
	{"发票", "开票", "票据"},
	{"快递", "物流", "包裹", "快件"},
	{"退款", "退钱", "返款"},
	{"发货", "出货", "寄出"},
	{"优惠", "折扣", "打折"},
	{"尺码", "码数", "尺寸"},
	{"地址", "住址"},
	{"取消", "撤销"},
	{"客服", "人工"},
	{"付款", "支付", "付钱"},
	{"维修", "修理", "返修"},
	{"破损", "损坏", "坏了"},
	{"运费", "邮费"},
	{"多久", "多长", "几天"},
	{"取消", "作废"},
	{"订单", "单子"},
	{"修改", "更改", "改动"},
	{"收货", "收件"},
	{"价格", "价钱"},
	{"包邮", "免邮"},
	{"正品", "真货", "行货"},
	{"假货", "仿品", "高仿", "山寨"},
	{"电话", "手机"},
	{"质量", "品质"},
	{"价保", "保价"},
	{"尾款", "余款"},
	{"deliveri", "ship"},
	{"cancel", "withdraw"},
	{"invoic", "bill", "receipt"},
}

// synonyms maps every non-canonical term to its canonical one.
var synonyms = func() map[string]string {
	m := make(map[string]string)
	for _, g := range synonymGroups {
		for _, t := range g[1:] {
			m[t] = g[0]
		}
	}
	return m
}()
