package bot

// Word lists of the rules. They match the normalised message (half-width, lower case).
var (
	// requestWords ask for a person.
	requestWords   = []string{"转人工", "人工客服", "人工服务", "找人工", "要人工", "真人", "活人", "客服人员", "人工"}
	requestWordsEn = []string{"human", "agent", "real person", "representative", "talk to someone", "operator", "live chat"}

	// negativeWords are complaints and anger.
	negativeWords   = []string{"投诉", "差评", "骗子", "骗人", "欺诈", "举报", "12315", "消协", "垃圾", "太差", "气死", "坑人", "什么破", "黑店", "曝光", "律师", "起诉"}
	negativeWordsEn = []string{"complaint", "complain", "scam", "fraud", "terrible", "worst", "sue", "lawyer"}

	// afterSalesWords mean the case is after-sales: always a person's job.
	afterSalesWords = []string{
		"退货", "退款", "退钱", "换货", "换一个", "换个", "维修", "返修", "保修", "坏了", "坏的",
		"破损", "损坏", "压坏", "碎了", "发错", "错发", "少发", "漏发", "少了", "缺件",
		"质量问题", "有瑕疵", "瑕疵", "补发", "售后", "退回", "退掉", "不想要了",
	}
	afterSalesWordsEn = []string{"return", "refund", "exchange", "broken", "damaged", "defective", "repair", "wrong item", "missing"}
)

// hasRequest reports whether the message asks for a person.
func hasRequest(s string) bool {
	return containsAny(s, requestWords) || containsWord(s, requestWordsEn)
}

// hasNegative reports whether the message complains or is angry.
func hasNegative(s string) bool {
	return containsAny(s, negativeWords) || containsWord(s, negativeWordsEn)
}

// hasAfterSales reports whether the message is about an after-sales case.
func hasAfterSales(s string) bool {
	return containsAny(s, afterSalesWords) || containsWord(s, afterSalesWordsEn)
}
