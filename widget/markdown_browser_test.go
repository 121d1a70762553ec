package widget

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kefu-im/kefu/internal/browsertest"
)

// markdownPage embeds the widget with data-test, which exposes its Markdown renderer
// as window.__kefuRenderMarkdown.
const markdownPage = `<!doctype html><meta charset="utf-8"><title>md</title>` +
	`<script src="/widget.js" data-test></script>`

// markdownCheck renders each input in the page, adds it to the document (so a stray
// <img onerror> or <script> would run) and returns its markup and anything outside the
// allowed subset: other elements, other attributes, links that are not http(s).
const markdownCheck = `(inputs) => inputs.map((src) => {
	const box = window.__kefuRenderMarkdown(src);
	document.body.appendChild(box);
	const allowed = {P: [], BR: [], STRONG: [], EM: [], CODE: [], UL: [], OL: ['start'], LI: [],
		A: ['href', 'target', 'rel']};
	const bad = [];
	for (const e of box.querySelectorAll('*')) {
		if (!allowed[e.tagName]) { bad.push('element ' + e.tagName); continue; }
		for (const a of e.attributes) {
			if (!allowed[e.tagName].includes(a.name)) bad.push(e.tagName + '@' + a.name);
		}
		if (e.tagName === 'A' && (!/^https?:\/\//.test(e.getAttribute('href')) ||
			e.target !== '_blank' || e.rel !== 'noopener noreferrer nofollow')) {
			bad.push('link ' + e.outerHTML);
		}
	}
	return {html: box.innerHTML, bad};
})`

// TestMarkdownBrowser runs the widget's Markdown renderer in a real browser on ordinary
// and hostile input.
func TestMarkdownBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	js, err := script()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/widget.js" {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Write(js)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(markdownPage))
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	dialogs := browsertest.Dialogs(t, tab)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Poll[chromedp.Void](`typeof window.__kefuRenderMarkdown === 'function'`),
	); err != nil {
		t.Fatal(err)
	}

	link := func(href, text string) string {
		return `<a href="` + href + `" target="_blank" rel="noopener noreferrer nofollow">` + text + `</a>`
	}
	cases := []struct{ in, want string }{
		// A bundled answer: one paragraph of plain text, as before.
		{"可以的，下单时在结算页选择「开具发票」即可。", "<p>可以的，下单时在结算页选择「开具发票」即可。</p>"},
		{"第一行\n第二行\n\n  第二段  ", "<p>第一行<br>第二行</p><p>第二段</p>"},
		{"支持**以旧换新**和__免费上门__", "<p>支持<strong>以旧换新</strong>和<strong>免费上门</strong></p>"},
		{"*斜体* 和 _斜体_，**粗体里的 *斜体***", "<p><em>斜体</em> 和 <em>斜体</em>，<strong>粗体里的 <em>斜体</em></strong></p>"},
		{"snake_case_name 2*3*4 = 24, a * b * c, __init__x", "<p>snake_case_name 2*3*4 = 24, a * b * c, __init__x</p>"},
		{`\*不是斜体\* 和 \_也不是\_`, "<p>*不是斜体* 和 _也不是_</p>"},
		{"步骤如下：\n- 选择型号\n* 预约取件\n  上门免费\n\n3. 验机\n4. 退款", "<p>步骤如下：</p><ul><li>选择型号</li><li>预约取件<br>上门免费</li></ul>" +
			`<ol start="3"><li>验机</li><li>退款</li></ol>`},
		{"## 退货须知 ##\n请保留 `订单号<123>`", "<p><strong>退货须知</strong></p><p>请保留 <code>订单号&lt;123&gt;</code></p>"},
		{"[帮助中心](https://shop.example/help?a=1&b=2)", "<p>" + link("https://shop.example/help?a=1&amp;b=2", "帮助中心") + "</p>"},
		{"[**加粗** https://x.example](http://shop.example)", "<p>" + link("http://shop.example/", "<strong>加粗</strong> https://x.example") + "</p>"},
		{"详见 https://shop.example/a_b。谢谢，或 https://shop.example/faq.", "<p>详见 " + link("https://shop.example/a_b", "https://shop.example/a_b") +
			"。谢谢，或 " + link("https://shop.example/faq", "https://shop.example/faq") + ".</p>"},
		// Hostile input stays text.
		{"[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"},
		{"[x](JaVaScRiPt:alert%281%29)", "<p>[x](JaVaScRiPt:alert%281%29)</p>"},
		{"[x](data:text/html,hi) [y](//evil.example) [z](/relative) [w](ftp://a.example)",
			"<p>[x](data:text/html,hi) [y](//evil.example) [z](/relative) [w](ftp://a.example)</p>"},
		{"<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"},
		{"**<script>**", "<p><strong>&lt;script&gt;</strong></p>"},
		{"**<script>**alert(1)**</script>**", "<p>**&lt;script&gt;<strong>alert(1)</strong>&lt;/script&gt;**</p>"},
		{`<a href="javascript:alert(1)" style="color:red">x</a>`, `<p>&lt;a href="javascript:alert(1)" style="color:red"&gt;x&lt;/a&gt;</p>`},
		{"[x](https://a.example/\"onmouseover=alert(1))", "<p>[x](" + link("https://a.example/", "https://a.example/") + "\"onmouseover=alert(1))</p>"},
		{"[x](https://a.example/\"onmouseover=alert%281%29)", "<p>" + link("https://a.example/%22onmouseover=alert%281%29", "x") + "</p>"},
	}
	inputs := make([]string, len(cases))
	for i, c := range cases {
		inputs[i] = c.in
	}
	arg, _ := json.Marshal(inputs)
	type result struct {
		HTML string   `json:"html"`
		Bad  []string `json:"bad"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]result](`(`+markdownCheck+`)(`+string(arg)+`)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cases) {
		t.Fatalf("got %d results for %d inputs", len(got), len(cases))
	}
	for i, c := range cases {
		if got[i].HTML != c.want {
			t.Errorf("render %q:\n got  %s\n want %s", c.in, got[i].HTML, c.want)
		}
		if len(got[i].Bad) > 0 {
			t.Errorf("render %q: outside the subset: %q", c.in, got[i].Bad)
		}
	}
	time.Sleep(200 * time.Millisecond) // a stray onerror would have fired by now
	if d := dialogs(); len(d) > 0 {
		t.Errorf("the page opened dialogs: %q", d)
	}
}
