package handoff

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The reply guard enforces two of the platform's rules before an agent's reply is stored:
// no one-word replies (一字真言) and no outside contact details. It is
// deliberately conservative about numbers: order, waybill and amount figures are common in
// replies, and a false block costs an agent more time than a missed phone number costs the
// shop, since the override is logged anyway.

// MaxReplyRunes bounds an agent's message, and an internal note.
const MaxReplyRunes = 2000

// CheckContact returns the outside contact details the desk's reply guard finds in text
// (DeskConfig.AllowedLinkHosts): a reply that has any needs the agent's override.
func (d *Desk) CheckContact(text string) []ContactFinding { return d.guard.Check(text) }

// Finding kinds of ContactFinding.
const (
	FindPhone    = "phone"    // a mainland mobile number
	FindLandline = "landline" // a fixed-line or 400/800 service number
	FindQQ       = "qq"       // a QQ number
	FindWeChat   = "wechat"   // a WeChat id
	FindEmail    = "email"    // an e-mail address
	FindLink     = "link"     // a link to a host not on the allowlist
)

// findLabels are the kinds as agents read them.
var findLabels = map[string]string{
	FindPhone: "手机号", FindLandline: "电话号码", FindQQ: "QQ号", FindWeChat: "微信号",
	FindEmail: "邮箱", FindLink: "站外链接",
}

// ContactFinding is an outside contact detail found in a reply. Masked shows enough of it
// for the agent to recognise it and too little to use it; it is what the logs and the
// override note carry, never the value itself.
type ContactFinding struct {
	Kind   string `json:"kind"`
	Label  string `json:"label"`
	Masked string `json:"masked"`
}

func (f ContactFinding) String() string { return f.Label + " " + f.Masked }

// shortWords are replies that say nothing on their own; shortChars and particles are the
// characters of the one-word replies built from them (嗯嗯, 好的, 行吧, 哦哦哦).
var (
	shortWords = map[string]bool{
		"ok": true, "okay": true, "okk": true, "okkk": true, "k": true, "kk": true, "o": true,
		"en": true, "enn": true, "em": true, "emm": true, "emmm": true, "hmm": true, "hm": true,
		"y": true, "yes": true, "yep": true, "ha": true, "haha": true, "hahaha": true, "1": true,
		"可以": true, "收到": true, "知道了": true, "明白": true, "了解": true, "没有": true, "不行": true,
		"不是": true, "没": true, "不": true, "ok的": true, "ok啦": true, "ok了": true,
	}
	shortChars = "嗯恩好哦噢喔行哈是对在啊呃额昂嗷唔嘿"
	particles  = "的了啦呢吧滴哒呀嘛"
)

// IsShortReply reports whether text is a one-word reply once spaces, punctuation and
// emoji are trimmed: 「嗯」「好的」「哦哦」「OK」「👍」. Such a reply needs the agent's
// confirmation.
func IsShortReply(text string) bool {
	if strings.TrimSpace(text) == "" {
		return false
	}
	var b strings.Builder
	for _, r := range text {
		switch {
		case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsSymbol(r), unicode.Is(unicode.Mn, r),
			unicode.Is(unicode.Cf, r), unicode.In(r, unicode.Sk), r == '\uFE0F', r >= 0x1F000:
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	s := b.String()
	if s == "" {
		return true // only emoji or punctuation: 「👍」「。。。」
	}
	if shortWords[s] {
		return true
	}
	n := utf8.RuneCountInString(s)
	if n > 4 {
		return false
	}
	base := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(shortChars, r):
			base++
		case strings.ContainsRune(particles, r):
		default:
			return false
		}
	}
	return base > 0
}

// ReplyGuard checks agents' replies for outside contact details.
type ReplyGuard struct {
	allowed []string // lowercase hosts; a subdomain of one is allowed too
}

// NewReplyGuard returns a guard that lets links to allowedHosts (and their subdomains)
// through; every other link is reported.
func NewReplyGuard(allowedHosts []string) *ReplyGuard {
	g := &ReplyGuard{}
	for _, h := range allowedHosts {
		h = strings.Trim(strings.ToLower(strings.TrimSpace(h)), ".")
		if h != "" {
			g.allowed = append(g.allowed, h)
		}
	}
	return g
}

var (
	// digitRun is a run of digit groups joined by single separators: 138 1234 5678,
	// 010-12345678, (0755)1234567. The groups are judged by windows (phoneWindows).
	digitRun = regexp.MustCompile(`\+?[0-9]+(?:[ \-.()\x{2014}\x{2013}]{1,2}[0-9]+)*`)
	// orderWords before a number mean it is an order, waybill or amount figure.
	orderWords = regexp.MustCompile(`(?i)(订单|单号|运单|快递|物流|工单|编号|尾号|货号|型号|sku|no\.?|¥|￥|rmb|价格|金额|共计|合计)[^0-9]{0,6}$`)
	// phoneWords before a number mean it is meant to be dialled.
	phoneWords = regexp.MustCompile(`(?i)(电话|手机|座机|致电|拨打|热线|联系方式|联系|打给|tel|call|phone)[^0-9]{0,6}$`)
	qqPattern  = regexp.MustCompile(`(?i)(?:qq|扣扣|企鹅|q号|加q|q\s*[:：])\s*(?:号码|号|群)?\s*[:：=]?\s*([1-9][0-9]{4,11})`)
	// wechatPattern: the keyword, an optional 号 or colon, and an id of 6-20 letters,
	// digits, _ or - that starts with a letter (a WeChat id that is a phone number is found
	// as a phone).
	wechatPattern = regexp.MustCompile(`(?i)(^|[^a-z])(微信|威信|薇信|徽信|v信|vx|wx|weixin|wechat|加v|v\s*[:：])(\s*(?:号码|号)?\s*[:：=]?\s*)([a-z][a-z0-9_\-]{5,19})`)
	emailPattern  = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`)
	urlPattern    = regexp.MustCompile(`(?i)https?://[^\s<>"'，。！？、；）)\]】]+`)
	// bareDomain is a link written without a scheme: www.example.com, shop.xx.cn/abc.
	bareDomain = regexp.MustCompile(`(?i)(^|[^a-z0-9@._\-/])((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:com|cn|net|org|cc|top|shop|xyz|vip|me|io|info|biz|club|site|online|store|tv|co))(?:[/:?][^\s<>"'，。！？、；）)]*)?`)
	cnDigits   = strings.NewReplacer("〇", "0", "零", "0", "一", "1", "幺", "1", "二", "2", "两", "2", "三", "3", "四", "4",
		"五", "5", "六", "6", "七", "7", "八", "8", "九", "9")
	cnDigitRun = regexp.MustCompile(`[〇零一幺二两三四五六七八九]{7,}`)
)

// normalize folds full-width characters to ASCII and runs of seven or more Chinese
// numerals (一三八…, a common way around filters) to digits, keeping the text otherwise.
func normalize(text string) string {
	var b strings.Builder
	for _, r := range text {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		b.WriteRune(r)
	}
	return cnDigitRun.ReplaceAllStringFunc(b.String(), cnDigits.Replace)
}

// Check returns the outside contact details in text, in the order found; none means the
// reply may be sent.
func (g *ReplyGuard) Check(text string) []ContactFinding {
	s := normalize(text)
	var out []ContactFinding
	seen := map[string]bool{}
	add := func(kind, masked string) {
		if seen[kind+masked] {
			return
		}
		seen[kind+masked] = true
		out = append(out, ContactFinding{Kind: kind, Label: findLabels[kind], Masked: masked})
	}
	// Links and e-mail first; their text is blanked so that digits inside them are not
	// read as phone numbers again.
	for _, loc := range urlPattern.FindAllStringIndex(s, -1) {
		raw := strings.TrimRight(s[loc[0]:loc[1]], ".,;:!?")
		u, err := url.Parse(raw)
		host := ""
		if err == nil {
			host = strings.ToLower(u.Hostname())
		}
		if host == "" || !g.hostAllowed(host) {
			add(FindLink, maskLink(host))
		}
	}
	s = blank(s, urlPattern)
	for _, m := range emailPattern.FindAllString(s, -1) {
		add(FindEmail, maskEmail(m))
	}
	s = blank(s, emailPattern)
	for _, m := range bareDomain.FindAllStringSubmatch(s, -1) {
		host := strings.ToLower(m[2])
		if !g.hostAllowed(host) {
			add(FindLink, maskLink(host))
		}
	}
	for _, m := range qqPattern.FindAllStringSubmatch(s, -1) {
		add(FindQQ, maskDigits(m[1], 2, 1))
	}
	for _, m := range wechatPattern.FindAllStringSubmatch(s, -1) {
		id := m[4]
		explicit := strings.ContainsAny(m[3], ":：=号") || strings.ContainsAny(m[2], ":：")
		if !explicit && !strings.ContainsAny(id, "0123456789_-") {
			continue // 「微信 scan」: a word, not an id
		}
		add(FindWeChat, id[:2]+strings.Repeat("*", len(id)-2))
	}
	s = blank(s, qqPattern)
	for _, loc := range digitRun.FindAllStringIndex(s, -1) {
		before := s[:loc[0]]
		if loc[0] > 0 {
			r, _ := utf8.DecodeLastRuneInString(before)
			if r < utf8.RuneSelf && (unicode.IsLetter(r) || r == '#' || r == '/' || r == '_') {
				continue // SF1381234567890, a code or a path, not a phone
			}
		}
		if loc[1] < len(s) {
			r, _ := utf8.DecodeRuneInString(s[loc[1]:])
			if r < utf8.RuneSelf && (unicode.IsLetter(r) || r == '_') {
				continue
			}
		}
		for _, f := range phoneWindows(s[loc[0]:loc[1]], orderWords.MatchString(before), phoneWords.MatchString(before)) {
			add(f.Kind, f.Masked)
		}
	}
	return out
}

func blank(s string, re *regexp.Regexp) string {
	return re.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat(" ", utf8.RuneCountInString(m)) })
}

// phoneWindows judges a run of digit groups: every window of consecutive groups whose
// digits form a mobile, landline or service number is one finding. Windows keep to group
// boundaries, so a phone number written next to an order number is found, and an order
// number that contains eleven digits starting with 13 is not. order (the words before
// the run name an order, waybill or amount) leaves out the windows of the first group;
// dial (they ask to call it) lets a local 7-8 digit number count too.
func phoneWindows(run string, order, dial bool) []ContactFinding {
	plus := strings.HasPrefix(run, "+")
	groups := digitGroup.FindAllString(run, -1)
	var out []ContactFinding
	start := 0
	if order {
		start = 1
	}
	for i := start; i < len(groups); i++ {
		d := ""
		for j := i; j < len(groups); j++ {
			d += groups[j]
			if len(d) > 15 {
				break
			}
			kind := phoneKind(d, plus && i == 0 || len(groups) > 1, dial)
			if kind == "" {
				continue
			}
			out = append(out, ContactFinding{Kind: kind, Label: findLabels[kind], Masked: maskDigits(d, 3, 2)})
			i = j // the groups are used up
			break
		}
	}
	return out
}

var (
	digitGroup = regexp.MustCompile(`[0-9]+`)
	mobile     = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	mobile86   = regexp.MustCompile(`^(?:0086|86)1[3-9][0-9]{9}$`)
	landline   = regexp.MustCompile(`^0[1-9][0-9]{8,10}$`)
	service    = regexp.MustCompile(`^[48]00[0-9]{7}$`)
	local      = regexp.MustCompile(`^[2-9][0-9]{6,7}$`)
)

// phoneKind says what the digits d are as a number to dial, or "". prefixed says that
// a country code may stand in front (a leading + or separated groups).
func phoneKind(d string, prefixed, dial bool) string {
	switch {
	case mobile.MatchString(d), prefixed && mobile86.MatchString(d):
		return FindPhone
	case landline.MatchString(d), service.MatchString(d), dial && local.MatchString(d):
		return FindLandline
	}
	return ""
}

func (g *ReplyGuard) hostAllowed(host string) bool {
	for _, a := range g.allowed {
		if host == a || strings.HasSuffix(host, "."+a) {
			return true
		}
	}
	return false
}

// maskDigits keeps the first keep and last tail digits of d.
func maskDigits(d string, keep, tail int) string {
	if len(d) <= keep+tail {
		return strings.Repeat("*", len(d))
	}
	return d[:keep] + strings.Repeat("*", len(d)-keep-tail) + d[len(d)-tail:]
}

func maskEmail(m string) string {
	user, domain, _ := strings.Cut(m, "@")
	if len(user) > 1 {
		user = user[:1]
	}
	return user + "***@" + strings.ToLower(domain)
}

// maskLink shows a link's host: which site it points to is what the agent and the
// auditor need, and a host is not personal data.
func maskLink(host string) string {
	if host == "" {
		return "（无法识别的链接）"
	}
	return host
}
