package contactguard

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns text as the guard reads it: the characters a reader does not see
// (zero-width and bidi controls, variation selectors) removed, compatibility forms folded
// by NFKC (full-width letters and digits, ①, ⑴, 𝟏), the digits NFKC keeps (❶, ➀, ⓵)
// and runs of Chinese numerals (一三八…, 壹叁捌…) written as digits, and the common
// spellings of WeChat, QQ, dots and at signs (wei xin, 扣扣, evil。com, me(at)x.com)
// written as the guard's patterns know them. Normalize(Normalize(s)) == Normalize(s).
//
// The result is for looking only: it may read differently from what was written
// (「5点」 stays, but 「evil点com」 becomes evil.com) and is never stored or shown.
func Normalize(text string) string {
	s := norm.NFKC.String(stripInvisible(text))
	s = foldDigits(s)
	s = foldNumerals(s)
	s = foldSpellings(s)
	return s
}

// Invisible reports whether r is a character a reader cannot see that may sit inside a
// word or a number: zero-width spaces and joiners, bidi marks, embeddings, overrides and
// isolates, variation selectors, soft hyphens, fillers and tags (Unicode's
// Default_Ignorable_Code_Point, less what nobody types).
func Invisible(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x061C, r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5,
		r >= 0x180B && r <= 0x180F, r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E,
		r >= 0x2060 && r <= 0x206F, r == 0x3164, r >= 0xFE00 && r <= 0xFE0F, r == 0xFEFF, r == 0xFFA0,
		r >= 0xFFF0 && r <= 0xFFF8, r >= 0x1BCA0 && r <= 0x1BCA3, r >= 0x1D173 && r <= 0x1D17A,
		r >= 0xE0000 && r <= 0xE0FFF:
		return true
	}
	return false
}

// stripInvisible removes the Invisible characters; an invalid byte becomes U+FFFD.
func stripInvisible(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, Invisible) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !Invisible(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldDigits writes the circled digits NFKC leaves alone (dingbats) as digits.
func foldDigits(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 0x24EB && r <= 0x24FF || r >= 0x2776 && r <= 0x2793 }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x2776 && r <= 0x2793: // ❶-❿, ➀-➉, ➊-➓: three runs of one to ten
			b.WriteString(strconv.Itoa(int(r-0x2776)%10 + 1))
		case r >= 0x24F5 && r <= 0x24FE: // ⓵-⓾
			b.WriteString(strconv.Itoa(int(r-0x24F5) + 1))
		case r == 0x24FF: // ⓿
			b.WriteByte('0')
		case r >= 0x24EB && r <= 0x24F4: // ⓫-⓴
			b.WriteString(strconv.Itoa(int(r-0x24EB) + 11))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// numerals are the Chinese ways to write a digit: the common ones, the financial ones
// (大写) in simplified and traditional forms, and 幺 and 两 as said on the phone.
var numerals = map[rune]byte{
	'〇': '0', '零': '0', '一': '1', '幺': '1', '壹': '1', '二': '2', '两': '2', '贰': '2', '貳': '2',
	'三': '3', '叁': '3', '叄': '3', '參': '3', '四': '4', '肆': '4', '五': '5', '伍': '5',
	'六': '6', '陆': '6', '陸': '6', '七': '7', '柒': '7', '八': '8', '捌': '8', '九': '9', '玖': '9',
}

// numeralRun is a run of digits and Chinese numerals, each group apart from the next by
// at most three separators (the characters digitRun accepts).
var numeralRun = regexp.MustCompile(`[0-9〇零一幺壹二两贰貳三叁叄參四肆五伍六陆陸七柒八捌九玖](?:[ \-.()\x{2014}\x{2013}/_*~|\\\x{00B7}]{0,3}[0-9〇零一幺壹二两贰貳三叁叄參四肆五伍六陆陸七柒八捌九玖])*`)

// foldNumerals writes the Chinese numerals of a run as digits when the run has seven
// digits or more, the length of a number to call or add; shorter runs are words
// (一二三, 三五天, 七七八八).
func foldNumerals(s string) string {
	n := 0
	for _, r := range s {
		if _, ok := numerals[r]; ok || r >= '0' && r <= '9' {
			n++
		}
	}
	if n < 7 {
		return s // no run can be long enough
	}
	return numeralRun.ReplaceAllStringFunc(s, func(run string) string {
		digits, chinese := 0, false
		for _, r := range run {
			if _, ok := numerals[r]; ok {
				digits, chinese = digits+1, true
			} else if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 7 || !chinese {
			return run
		}
		var b strings.Builder
		for _, r := range run {
			if d, ok := numerals[r]; ok {
				b.WriteByte(d)
			} else {
				b.WriteRune(r)
			}
		}
		return b.String()
	})
}

var (
	// weChatSpelling and qqSpelling are ways to write 微信 and QQ that the patterns
	// would not know: wei xin, we chat, 微 信, V 信, 威信, q q, 扣扣.
	weChatSpelling = regexp.MustCompile(`(?i)\bwei[\s\-_.]*xin\b|\bwe[\s\-_.]+chat\b|微[\s\-_.]+信|\bv[\s\-_.]+信|[威薇徽嶶]信`)
	qqSpelling     = regexp.MustCompile(`(?i)\bq[\s\-_.]+q\b|扣扣|抠抠|蔻蔻`)
	// dotSpelling and atSpelling are ways to write . and @ in an address; they count only
	// between the parts of one (dotBetween, atBetween).
	dotSpelling = regexp.MustCompile(`(?i)\s*(?:。|点|點|丶|\(\s*dot\s*\)|\[\s*dot\s*\]|\{\s*dot\s*\}|<\s*dot\s*>|【\s*dot\s*】|\(\.\)|\[\.\])\s*|\s+dot\s+`)
	atSpelling  = regexp.MustCompile(`(?i)\s*(?:\(\s*at\s*\)|\[\s*at\s*\]|\{\s*at\s*\}|<\s*at\s*>|【\s*at\s*】|艾特|#)\s*|\s+at\s+`)
	// domainAhead is the start of a host with its dot: what must follow an at sign.
	domainAhead = regexp.MustCompile(`^[a-zA-Z0-9\-]+\.[a-zA-Z]{2,}`)
)

// foldSpellings writes the spellings of 微信, QQ, dots and at signs as the patterns
// know them.
// Each spelling is looked for only when the text holds a character every one of its
// forms has.
func foldSpellings(s string) string {
	if strings.ContainsAny(s, "信wW") {
		s = weChatSpelling.ReplaceAllString(s, "微信")
	}
	if strings.ContainsAny(s, "qQ扣抠蔻") {
		s = qqSpelling.ReplaceAllString(s, "QQ")
	}
	if strings.ContainsAny(s, "。点點丶.dD") {
		s = replaceBetween(s, dotSpelling, ".", func(before, after string) bool {
			l, _ := utf8.DecodeLastRuneInString(before)
			r, _ := utf8.DecodeRuneInString(after)
			return isAlnum(l) && (isLetter(r) || isDigit(r) && isDigit(l))
		})
	}
	if strings.ContainsAny(s, "#艾aA") {
		s = replaceBetween(s, atSpelling, "@", func(before, after string) bool {
			l, _ := utf8.DecodeLastRuneInString(before)
			return (isAlnum(l) || strings.ContainsRune("._%+-", l)) && domainAhead.MatchString(after)
		})
	}
	return s
}

// replaceBetween replaces each match of re with repl where ok says so of the text
// before and after the match, both taken from s as it was: the neighbours of a match are
// never the product of another replacement.
func replaceBetween(s string, re *regexp.Regexp, repl string, ok func(before, after string) bool) string {
	locs := re.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		if loc[0] == 0 || loc[1] == len(s) || !ok(s[:loc[0]], s[loc[1]:]) {
			continue
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(repl)
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
func isAlnum(r rune) bool  { return isDigit(r) || isLetter(r) }
