package bot

import (
	"strings"

	"github.com/kefu-im/kefu/internal/triage"
	"github.com/kefu-im/kefu/kb"
)

// Word lists of the rules. They match the normalised message (half-width, lower case).
var (
	// requestWords ask for a person.
	requestWords = []string{
		"转人工", "人工客服", "人工服务", "找人工", "要人工", "真人", "活人", "客服人员", "人工",
		"叫人", "来个人", "找个人", "找客服", "要客服", "客服小姐姐", "客服小哥", "不要机器人", "别机器人", "不跟机器人",
	}
	requestWordsEn = []string{"human", "agent", "real person", "a person", "representative", "talk to someone", "speak to someone", "operator", "live chat", "not a bot"}

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

// rule is what a word list says about a message: the hand-off reason and the word that
// said it.
type rule struct {
	reason triage.Reason
	word   string
}

// rulesOf returns what each word list says, in order: a request for a person, anger or
// a complaint, an after-sales case.
func rulesOf(s string) []rule {
	var out []rule
	for _, r := range []struct {
		reason    triage.Reason
		zh, latin []string
	}{
		{triage.ReasonRequested, requestWords, requestWordsEn},
		{triage.ReasonNegativeSentiment, negativeWords, negativeWordsEn},
		{triage.ReasonAfterSales, afterSalesWords, afterSalesWordsEn},
	} {
		if w := firstAny(s, r.zh); w != "" {
			out = append(out, rule{r.reason, w})
		} else if w := firstWord(s, r.latin); w != "" {
			out = append(out, rule{r.reason, w})
		}
	}
	return out
}

// mentions reports whether a's title or questions hold word: the knowledge then
// answers questions that use it, such as 「人工客服几点上班」 or 「退货运费谁出」.
func mentions(a kb.Article, word string) bool {
	latin := word != "" && word[0] < 128
	for _, q := range append([]string{a.Title}, a.Questions...) {
		q = Normalize(q)
		if latin && firstWord(q, []string{word}) != "" || !latin && strings.Contains(q, word) {
			return true
		}
	}
	return false
}
