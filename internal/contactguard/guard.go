// Package contactguard finds outside contact details (phone, QQ and WeChat numbers,
// e-mail addresses, links off the shop's hosts) in text the shop sends to shoppers:
// agents' replies, canned replies, ticket texts and answers an LLM words. It reads the
// text as a person would see it (Normalize), so zero-width characters, full-width or
// circled digits, Chinese numerals and spelled-out dots do not hide a number. It is
// deliberately conservative about plain numbers: order, waybill and amount figures are
// common in replies, and a false block costs an agent more time than a missed phone
// number costs the shop, since the override is logged anyway.
package contactguard

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Finding kinds.
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

// Finding is an outside contact detail found in a text. Masked shows enough of it
// for the agent to recognise it and too little to use it; it is what the logs and the
// override note carry, never the value itself.
type Finding struct {
	Kind   string `json:"kind"`
	Label  string `json:"label"`
	Masked string `json:"masked"`
}

func (f Finding) String() string { return f.Label + " " + f.Masked }

// Guard finds outside contact details. It is safe for concurrent use.
type Guard struct {
	allowed []string // lowercase hosts; a subdomain of one is allowed too
}

// New returns a guard that lets links to allowedHosts (and their subdomains) through;
// every other link is reported.
func New(allowedHosts []string) *Guard {
	g := &Guard{}
	for _, h := range allowedHosts {
		h = strings.Trim(strings.ToLower(strings.TrimSpace(h)), ".")
		if h != "" {
			g.allowed = append(g.allowed, h)
		}
	}
	return g
}

var (
	// digitRun is a run of digit groups joined by short separators: 138 1234 5678,
	// 010-12345678, (0755)1234567. The groups are judged by windows (phoneWindows).
	// The separators are those people put between digits to group them or to slip
	// past a filter: 138/1234/5678, 138_1234_5678, 138 - 1234 - 5678.
	digitRun = regexp.MustCompile(`\+?[0-9]+(?:[ \-.()\x{2014}\x{2013}/_*~|\\\x{00B7}]{1,3}[0-9]+)*`)
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
)

// Check returns the outside contact details in text, in the order found; none means the
// reply may be sent.
func (g *Guard) Check(text string) []Finding {
	s := Normalize(text)
	var out []Finding
	seen := map[string]bool{}
	add := func(kind, masked string) {
		if seen[kind+masked] {
			return
		}
		seen[kind+masked] = true
		out = append(out, Finding{Kind: kind, Label: findLabels[kind], Masked: masked})
	}
	// Each pattern runs only when the text holds what it needs (a scheme, an at sign, a
	// dot, a keyword's letter, enough digits): most replies have none of these, and the
	// patterns are the guard's cost. Links and e-mail first; their text is blanked so that
	// digits inside them are not read as phone numbers again.
	if strings.Contains(s, "://") {
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
	}
	if strings.IndexByte(s, '@') >= 0 {
		for _, m := range emailPattern.FindAllString(s, -1) {
			add(FindEmail, maskEmail(m))
		}
		s = blank(s, emailPattern)
	}
	if strings.IndexByte(s, '.') >= 0 {
		for _, m := range bareDomain.FindAllStringSubmatch(s, -1) {
			host := strings.ToLower(m[2])
			if !g.hostAllowed(host) {
				add(FindLink, maskLink(host))
			}
		}
	}
	digits := countDigits(s)
	if digits >= 5 && (strings.ContainsAny(s, "qQ") || strings.Contains(s, "扣扣") || strings.Contains(s, "企鹅")) {
		for _, m := range qqPattern.FindAllStringSubmatch(s, -1) {
			add(FindQQ, maskDigits(m[1], 2, 1))
		}
		s = blank(s, qqPattern)
	}
	if strings.ContainsAny(s, "信vVwW") {
		for _, m := range wechatPattern.FindAllStringSubmatch(s, -1) {
			id := m[4]
			explicit := strings.ContainsAny(m[3], ":：=号") || strings.ContainsAny(m[2], ":：")
			if !explicit && !strings.ContainsAny(id, "0123456789_-") {
				continue // 「微信 scan」: a word, not an id
			}
			add(FindWeChat, id[:2]+strings.Repeat("*", len(id)-2))
		}
	}
	if digits < 7 {
		return out // the shortest number to dial, a local one, has seven digits
	}
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
		if len(before) > 64 {
			before = before[len(before)-64:] // the words that matter are close: a long text costs no more per number
		}
		for _, f := range phoneWindows(s[loc[0]:loc[1]], orderWords.MatchString(before), phoneWords.MatchString(before)) {
			add(f.Kind, f.Masked)
		}
	}
	return out
}

// countDigits counts the ASCII digits of s.
func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
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
func phoneWindows(run string, order, dial bool) []Finding {
	plus := strings.HasPrefix(run, "+")
	groups := digitGroup.FindAllString(run, -1)
	var out []Finding
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
			out = append(out, Finding{Kind: kind, Label: findLabels[kind], Masked: maskDigits(d, 3, 2)})
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

func (g *Guard) hostAllowed(host string) bool {
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
