package bot

import (
	"sort"
	"strings"
	"unicode"

	"github.com/kefu-im/kefu/internal/triage"
)

// Small talk (寒暄): greetings, thanks, goodbyes, presence checks and acknowledgements
// that ask nothing. A message is small talk only when every word of it is: 「你好」,
// 「好的谢谢」, 「亲在吗」, 「ok thanks」, 「🙂」 are; 「你好，我想退货」 and
// 「hi, where is my order」 are not, and go to retrieval with the greeting trimmed
// (trimSmallTalk). The word lists match the normalised message (Normalize).

// filler marks a word that belongs to small talk but says nothing by itself: a particle
// (啦, 呀), a form of address (客服, 小姐姐) or an intensifier (非常, so much). A message of
// fillers alone is not small talk.
const filler triage.Intent = ""

// hanTalk are the Chinese words of small talk, by intent.
var hanTalk = map[triage.Intent][]string{
	triage.IntentGreeting: {
		"你好", "您好", "你们好", "大家好", "哈喽", "哈啰", "哈罗", "嗨", "嘿", "早", "早上好", "上午好",
		"中午好", "下午好", "晚上好", "早安", "午安", "亲", "亲亲", "亲爱的",
	},
	triage.IntentPresence: {
		"在吗", "在嘛", "在么", "在不在", "在不", "在没", "在没在", "在线吗", "在的吗", "有人吗", "有人嘛", "有人么",
		"有人在吗", "有人在嘛", "有没有人", "有人没", "有人不", "人呢", "人在吗", "还在吗", "客服呢",
	},
	triage.IntentThanks: {
		"谢谢", "谢了", "谢啦", "多谢", "感谢", "感恩", "辛苦了", "辛苦啦", "辛苦", "麻烦了", "麻烦你了",
		"麻烦您了", "谢谢帮忙", "感谢帮忙", "谢谢解答", "感谢解答", "谢谢回复", "谢谢你的帮助",
		"谢谢您的帮助", "感谢你的帮助", "感谢您的帮助", "谢谢你的解答", "谢谢您的解答", "谢谢你的耐心",
		"谢谢您的耐心", "感谢你的耐心", "感谢您的耐心", "谢谢您的回复", "谢谢你的回复",
	},
	triage.IntentGoodbye: {
		"拜拜", "拜", "再见", "回见", "晚安", "没有了", "没了", "没有啦", "没事了", "没事啦", "没问题了",
		"没有问题了", "没其他问题了", "没有其他问题了", "没别的了", "没有别的了", "不用了", "不用啦",
		"就这些", "就这样", "先这样", "那就这样",
	},
	triage.IntentAck: {
		"好的", "好", "好滴", "好哒", "好嘞", "好叻", "好吧", "好哦", "好呢", "嗯", "恩", "嗯呢", "嗯嗯", "哦",
		"噢", "喔", "行", "行吧", "可以", "可以了", "没问题", "知道了", "知道啦", "晓得了", "明白", "明白了",
		"了解", "了解了", "收到", "懂了", "对", "对的", "是的", "哈哈", "呵呵", "嘿嘿", "嘻嘻", "得嘞", "妥",
		"妥了",
	},
	filler: {
		"啦", "呀", "呢", "嘛", "吖", "哇", "哟", "啊", "了", "咯", "喽", "哈", "哒", "客服", "小姐姐", "小哥哥",
		"美女", "帅哥", "老板", "掌柜", "店家", "你", "您", "你们", "非常", "十分", "万分", "太", "真是", "真的",
		"很", "那", "那就", "一下",
	},
}

// latinTalk are the English words and phrases of small talk, by intent; a phrase
// matches whole words.
var latinTalk = map[triage.Intent][]string{
	triage.IntentGreeting: {
		"hi", "hello", "hey", "hiya", "howdy", "hallo", "helo", "hellow", "hi there", "hello there",
		"hey there", "good morning", "good afternoon", "good evening", "morning", "greetings", "nihao",
	},
	triage.IntentPresence: {
		"are you there", "r u there", "u there", "you there", "anyone there", "anybody there",
		"is anyone there", "is anybody there", "anyone here", "is someone there", "someone there",
		"still there", "are you still there", "anyone", "anybody", "are you online",
	},
	triage.IntentThanks: {
		"thanks", "thank you", "thank u", "thankyou", "thx", "thanx", "thnx", "tks", "ty", "tysm",
		"many thanks", "cheers", "appreciate it", "much appreciated", "appreciated",
		"thanks for your help", "thank you for your help", "thanks for the help",
		"thank you for the help", "thanks for helping", "thank you for helping", "3q",
	},
	triage.IntentGoodbye: {
		"bye", "bye bye", "byebye", "goodbye", "good bye", "see you", "see ya", "cya", "see you later",
		"have a nice day", "have a good day", "good night", "that's all", "thats all", "that is all",
		"that's it", "nothing else", "no more questions", "88", "886",
	},
	triage.IntentAck: {
		"ok", "okay", "okey", "okie", "k", "kk", "alright", "all right", "sure", "got it", "i see",
		"understood", "noted", "cool", "great", "nice", "perfect", "fine", "yes", "yeah", "yep", "yup",
		"no problem", "np", "sounds good", "will do", "awesome", "lol", "haha", "hmm", "oh", "ah",
		"i understand", "good",
	},
	filler: {
		"so", "very", "much", "a", "lot", "again", "guys", "dear", "mate", "friend", "everyone", "all", "then", "and", "no",
		"sir", "madam", "maam", "ma'am",
	},
}

// talkWords is the lookup of hanTalk and latinTalk: word → intent, with the longest
// Chinese word's length in runes and the longest English phrase's in words.
var (
	hanWords, latinWords = lookup(hanTalk), lookup(latinTalk)
	hanLongest           = longest(hanTalk, func(w string) int { return len([]rune(w)) })
	latinLongest         = longest(latinTalk, func(w string) int { return len(strings.Fields(w)) })
)

func lookup(lists map[triage.Intent][]string) map[string]triage.Intent {
	out := make(map[string]triage.Intent)
	for intent, words := range lists {
		for _, w := range words {
			if _, ok := out[w]; !ok || intent != filler {
				out[w] = intent
			}
		}
	}
	return out
}

func longest(lists map[triage.Intent][]string, size func(string) int) int {
	n := 0
	for _, words := range lists {
		for _, w := range words {
			n = max(n, size(w))
		}
	}
	return n
}

// intentRank orders the intents of a message that has several: 「好的谢谢」 is thanks,
// 「谢谢，拜拜」 a goodbye, 「你好在吗」 a presence check, 「好的呢亲」 an acknowledgement.
var intentRank = map[triage.Intent]int{
	triage.IntentGreeting: 1, triage.IntentAck: 2, triage.IntentPresence: 3, triage.IntentThanks: 4, triage.IntentGoodbye: 5,
}

// emoticons are ASCII faces that count as an emoji.
var emoticons = map[string]bool{":)": true, ":-)": true, ":d": true, ":-d": true, "^_^": true, "^^": true, ";)": true, ":p": true, "=)": true, "(:": true, "<3": true}

// SmallTalk reports whether the message is small talk and nothing else, and which: a
// greeting, thanks, a goodbye, a presence check or an acknowledgement. An emoji alone is
// an acknowledgement (🙏 and ❤ thanks, 👋 a greeting).
func SmallTalk(text string) (triage.Intent, bool) {
	segs := segments(Normalize(text))
	intent, words, emoji := filler, 0, filler
	for _, s := range segs {
		switch {
		case s.emoji != filler:
			if intentRank[s.emoji] > intentRank[emoji] {
				emoji = s.emoji
			}
		case s.other:
			return filler, false
		default:
			words++
			if intentRank[s.intent] > intentRank[intent] {
				intent = s.intent
			}
		}
	}
	switch {
	case words > 0 && intent != filler:
		return intent, true
	case words == 0 && emoji != filler:
		return emoji, true
	}
	return filler, false
}

// trimSmallTalk removes the small talk that opens a question up to a punctuation mark
// or space: 「你好，我想退货」 is asked as 「我想退货」, 「hi, where is my order」 as
// 「where is my order」. An acknowledgement alone opens a question only before a
// punctuation mark or Chinese: 「好的 那运费呢」 and 「ok, when will it arrive」 do, but in
// 「great quality?」 or 「yes i am new」 the word belongs to the question. s is
// normalised; without such an opening it is returned as is.
func trimSmallTalk(s string) string {
	segs := segments(s)
	cut, talk, strong := 0, false, false
	for i, seg := range segs {
		if seg.other {
			break
		}
		talk = talk || seg.intent != filler || seg.emoji != filler
		strong = strong || seg.intent != filler && seg.intent != triage.IntentAck || seg.emoji != filler
		// Only at a separator: 「好评返现吗」 does not open with 「好」.
		if !talk || i+1 < len(segs) && segs[i+1].start == seg.end {
			continue
		}
		next := strings.TrimLeft(s[seg.end:], " ")
		if strong || len(next) < len(s[seg.end:]) && next != "" && !latinRune([]rune(next)[0]) || len(next) == len(s[seg.end:]) {
			cut = seg.end
		}
	}
	if cut == 0 || strings.TrimSpace(s[cut:]) == "" {
		return s
	}
	return strings.TrimLeftFunc(s[cut:], func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// segment is one word of small talk (intent, filler for a filler), an emoji, or text that
// is not small talk (other), at bytes [start, end) of the message.
type segment struct {
	intent     triage.Intent
	emoji      triage.Intent
	other      bool
	start, end int
}

// segments splits s (normalised) into words of small talk, emoji and other text. Chinese
// is split by the longest word of hanTalk at each place, English by the longest phrase
// of latinTalk; drawn-out words (「hellooo」, 「okkk」) are read shortened. Punctuation
// and spaces separate and are left out.
func segments(s string) []segment {
	var out []segment
	type word struct {
		text       string
		start, end int
	}
	var latin []word
	flushLatin := func() {
		for i := 0; i < len(latin); {
			n := min(latinLongest, len(latin)-i)
			for ; n > 0; n-- {
				parts := make([]string, n)
				for j := range parts {
					parts[j] = latin[i+j].text
				}
				if intent, ok := latinWord(strings.Join(parts, " ")); ok {
					out = append(out, segment{intent: intent, start: latin[i].start, end: latin[i+n-1].end})
					break
				}
			}
			if n == 0 {
				out = append(out, segment{other: true, start: latin[i].start, end: latin[i].end})
				n = 1
			}
			i += n
		}
		latin = latin[:0]
	}
	rs := []rune(s)
	offs := make([]int, len(rs)+1)
	for i, p := 0, 0; i < len(rs); i++ {
		offs[i] = p
		p += len(string(rs[i]))
		offs[i+1] = p
	}
	// Faces such as :) are read before the runes, whose punctuation would split them.
	for _, f := range strings.Fields(s) {
		if emoticons[f] {
			at := strings.Index(s, f)
			out = append(out, segment{emoji: triage.IntentAck, start: at, end: at + len(f)})
			s = s[:at] + strings.Repeat(" ", len(f)) + s[at+len(f):]
		}
	}
	rs = []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case latinRune(r):
			j := i
			for j < len(rs) && (latinRune(rs[j]) || rs[j] == '\'' && j+1 < len(rs) && latinRune(rs[j+1])) {
				j++
			}
			latin = append(latin, word{text: string(rs[i:j]), start: offs[i], end: offs[j]})
			i = j
		case unicode.Is(unicode.Han, r):
			flushLatin()
			j := i
			for j < len(rs) && unicode.Is(unicode.Han, rs[j]) {
				j++
			}
			out = append(out, hanSegments(rs[i:j], offs[i:j+1])...)
			i = j
		default:
			if e := emojiIntent(r); e != filler {
				out = append(out, segment{emoji: e, start: offs[i], end: offs[i+1]})
			} else if !unicode.IsPunct(r) && !unicode.IsSpace(r) && !unicode.IsSymbol(r) && !unicode.Is(unicode.Mn, r) && r != '\u200d' {
				flushLatin()
				out = append(out, segment{other: true, start: offs[i], end: offs[i+1]}) // kana, hangul, …
			}
			i++
		}
	}
	flushLatin()
	sort.SliceStable(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out
}

// hanSegments splits a run of Chinese characters by the longest word at each place; a
// character no word starts with is other text. offs are the byte offsets of the runes
// and of the run's end.
func hanSegments(rs []rune, offs []int) []segment {
	var out []segment
	for i := 0; i < len(rs); {
		n := min(hanLongest, len(rs)-i)
		for ; n > 0; n-- {
			if intent, ok := hanWords[string(rs[i:i+n])]; ok {
				out = append(out, segment{intent: intent, start: offs[i], end: offs[i+n]})
				break
			}
		}
		if n == 0 {
			out = append(out, segment{other: true, start: offs[i], end: offs[i+1]})
			n = 1
		}
		i += n
	}
	return out
}

// latinWord looks an English word or phrase up, reading a drawn-out word shortened
// (「hiii」 as 「hi」, 「thanksss」 as 「thanks」, 「hellooo」 as 「hello」).
func latinWord(w string) (triage.Intent, bool) {
	if intent, ok := latinWords[w]; ok {
		return intent, true
	}
	for _, keep := range []int{1, 2} {
		if short := squeeze(w, keep); short != w {
			if intent, ok := latinWords[short]; ok {
				return intent, true
			}
		}
	}
	return filler, false
}

// squeeze shortens runs of three or more equal letters to keep letters.
func squeeze(w string, keep int) string {
	rs := []rune(w)
	var b strings.Builder
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		n := j - i
		if n >= 3 {
			n = keep
		}
		b.WriteString(strings.Repeat(string(rs[i]), n))
		i = j
	}
	return b.String()
}

func latinRune(r rune) bool { return r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// emojiIntent is what an emoji says: 🙏 and hearts thank, 👋 greets, the other
// pictographs acknowledge; filler for a rune that is no emoji.
func emojiIntent(r rune) triage.Intent {
	switch {
	case r == '🙏' || r == '❤' || r == '💕' || r == '💖' || r == '💗' || r == '🌹' || r == '💐' || r == '🥰':
		return triage.IntentThanks
	case r == '👋':
		return triage.IntentGreeting
	case r >= 0x2753 && r <= 0x2757:
		return filler // ❓❔❕❗ are punctuation, not a nod
	case r >= 0x1F300 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF, r >= 0x1F000 && r <= 0x1F2FF:
		return triage.IntentAck
	}
	return filler
}
