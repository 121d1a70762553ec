package knowledge

import (
	"bytes"
	"fmt"
	stdhtml "html"
	"net/url"
	"strconv"
	"strings"

	"github.com/kefu-im/kefu/kb"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/html"
)

// markdown renders answers: GitHub Flavored Markdown, a line break for every newline
// (editors write answers as chat messages, not as prose), and table alignment as the
// align attribute, which the sanitizer keeps, rather than a style attribute, which it
// drops. Raw HTML is never rendered (no html.WithUnsafe). A goldmark.Markdown is safe
// for concurrent use.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithRendererOptions(
		gmhtml.WithHardWraps(),
		extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute),
	),
)

// sanitizer is applied to everything markdown renders. A bluemonday.Policy is safe for
// concurrent use once built.
var sanitizer = newSanitizer()

func newSanitizer() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	// Only absolute http, https and mailto URLs: an answer is shown in the shop's chat
	// widget, where a relative URL would point at the widget's own host.
	p.AllowRelativeURLs(false)
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	// Adds target="_blank" and rel="noopener" to links with a host.
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// RenderMarkdown renders an article's answer, written in Markdown, to HTML that is safe
// to insert into a page: raw HTML in src is dropped, and the result passes a bluemonday
// user-content policy that keeps no script, style, frame, event-handler attribute or URL
// other than an absolute http, https or mailto one. Links get rel="nofollow noopener"
// and, when they have a host, target="_blank".
func RenderMarkdown(src string) string {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		// Convert fails only when its writer does, and a bytes.Buffer does not; show the
		// source as text all the same rather than nothing.
		return "<p>" + stdhtml.EscapeString(src) + "</p>"
	}
	return string(sanitizer.SanitizeBytes(buf.Bytes()))
}

// bannedTags are the HTML elements CheckContent refuses anywhere outside code: those
// that run script, load other documents, or restyle or redirect the page.
var bannedTags = map[string]bool{
	"script": true, "style": true, "iframe": true, "frame": true, "frameset": true,
	"object": true, "embed": true, "applet": true, "base": true, "link": true,
	"meta": true, "form": true,
}

// bannedSchemes are the URL schemes CheckContent refuses in links, images and HTML
// attributes.
var bannedSchemes = []string{"javascript:", "vbscript:", "data:"}

// CheckContent is the check an article passes before it is saved or imported. It
// refuses, in the title, the questions, the tags and the answer: raw HTML <script>,
// <style>, <iframe>, <frame>, <frameset>, <object>, <embed>, <applet>, <base>, <link>,
// <meta> and <form> tags; HTML attributes that are event handlers (on...=) or inline
// styles (style=); and links, images or HTML attributes whose URL is javascript:,
// vbscript: or data:, however its case, white space, entities or percent-escapes
// disguise it. HTML and links written inside code spans and code blocks are text and
// pass. The error, wrapping ErrUnsafeContent, names the field and what was found, in
// English and Chinese.
//
// RenderMarkdown is safe without this check; it keeps such content out of the store so
// that no other reader of an article (an export, an API client) meets it either.
func CheckContent(a kb.Article) error {
	if err := checkField(fieldName{"title", "标题"}, a.Title); err != nil {
		return err
	}
	for i, q := range a.Questions {
		n := strconv.Itoa(i + 1)
		if err := checkField(fieldName{"question " + n, "第 " + n + " 个问题"}, q); err != nil {
			return err
		}
	}
	for i, t := range a.Tags {
		n := strconv.Itoa(i + 1)
		if err := checkField(fieldName{"tag " + n, "第 " + n + " 个标签"}, t); err != nil {
			return err
		}
	}
	return checkField(fieldName{"answer", "回答"}, a.Answer)
}

// fieldName names an article field in an error, in English and in Chinese.
type fieldName struct{ en, zh string }

// finding is something unsafe CheckContent found, in English ("a <script> tag") and in
// Chinese ("<script> 标签").
type finding struct{ en, zh string }

func (f finding) in(field fieldName) error {
	return fmt.Errorf("%w: %s contains %s (%s中不允许 %s)", ErrUnsafeContent, field.en, f.en, field.zh, f.zh)
}

// checkField checks one field, read as Markdown. Links and images are taken from
// goldmark's syntax tree, so reference links and <autolinks> are seen as the renderer
// sees them. HTML is scanned twice: the raw HTML nodes of the tree, put together as
// goldmark would emit them (this joins a tag that spans lines of a block quote or a list
// item), and the whole source with code spans and code blocks blanked out, which also
// catches tags goldmark would not take for HTML but a careless consumer might.
func checkField(field fieldName, src string) error {
	if src == "" {
		return nil
	}
	source := []byte(src)
	doc := markdown.Parser().Parse(text.NewReader(source))
	blanked := bytes.Clone(source)
	blank := func(seg text.Segment) {
		for i := seg.Start; i < seg.Stop && i < len(blanked); i++ {
			if blanked[i] != '\n' {
				blanked[i] = ' '
			}
		}
	}
	var found *finding
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var f *finding
		switch n := n.(type) {
		case *ast.Link:
			f = checkURL(linkDestination(n.Destination), "a link to", "链接")
		case *ast.Image:
			f = checkURL(linkDestination(n.Destination), "an image with", "图片地址")
		case *ast.AutoLink:
			f = checkURL(linkDestination(n.URL(source)), "a link to", "链接")
		case *ast.RawHTML:
			var b bytes.Buffer
			for i := range n.Segments.Len() {
				seg := n.Segments.At(i)
				b.Write(seg.Value(source))
			}
			f = scanHTML(b.String())
		case *ast.HTMLBlock:
			var b bytes.Buffer
			lines := n.Lines()
			for i := range lines.Len() {
				seg := lines.At(i)
				b.Write(seg.Value(source))
			}
			if n.HasClosure() {
				b.Write(n.ClosureLine.Value(source))
			}
			f = scanHTML(b.String())
		case *ast.CodeSpan:
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if t, ok := c.(*ast.Text); ok {
					blank(t.Segment)
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.CodeBlock, *ast.FencedCodeBlock:
			lines := n.Lines()
			for i := range lines.Len() {
				blank(lines.At(i))
			}
			return ast.WalkSkipChildren, nil
		}
		if f != nil {
			found = f
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		// The walker function returns no error; a parse tree is always walkable.
		return fmt.Errorf("checking %s: %w", field.en, err)
	}
	if found == nil {
		found = scanHTML(string(blanked))
	}
	if found != nil {
		return found.in(field)
	}
	return nil
}

// linkDestination undoes the Markdown backslash escapes of a link destination, as
// goldmark does before it writes the href; bannedScheme decodes its entities.
func linkDestination(dest []byte) string {
	return string(util.UnescapePunctuations(dest))
}

// checkURL reports a URL with a banned scheme; what and whatZH describe where it was
// ("a link to", "链接").
func checkURL(raw, what, whatZH string) *finding {
	s := bannedScheme(raw)
	if s == "" {
		return nil
	}
	return &finding{what + " a " + s + " URL", s + " " + whatZH}
}

// bannedScheme returns the banned scheme ("javascript:") raw starts with once its HTML
// entities and percent-escapes are decoded, all white space and control characters
// removed (browsers ignore tabs and newlines anywhere in a URL) and its case folded;
// otherwise "".
func bannedScheme(raw string) string {
	s := stdhtml.UnescapeString(raw)
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	s = strings.ToLower(s)
	for _, scheme := range bannedSchemes {
		if strings.HasPrefix(s, scheme) {
			return scheme
		}
	}
	return ""
}

// scanHTML tokenizes s as HTML, as a browser would, and reports the first banned tag,
// event-handler or style attribute, or attribute with a banned URL scheme.
func scanHTML(s string) *finding {
	if !strings.Contains(s, "<") {
		return nil
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return nil
		case html.EndTagToken:
			name, _ := z.TagName()
			if bannedTags[string(name)] {
				return &finding{"a <" + string(name) + "> tag", "<" + string(name) + "> 标签"}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			// Scan what follows <script>, <title>, <textarea>… as markup too, so that
			// an unclosed one cannot hide the rest of the text.
			z.NextIsNotRawText()
			nameB, more := z.TagName()
			name := string(nameB)
			if bannedTags[name] {
				return &finding{"a <" + name + "> tag", "<" + name + "> 标签"}
			}
			for more {
				var key, val []byte
				key, val, more = z.TagAttr()
				k := string(key)
				if k == "style" {
					// Inline CSS can lay a fake form over the page (and, in old
					// browsers, run script); an answer has no use for it.
					return &finding{"a style= attribute in <" + name + ">", "style 属性"}
				}
				if len(k) > 2 && strings.HasPrefix(k, "on") {
					return &finding{
						"an event-handler attribute " + k + "= in <" + name + ">",
						k + " 等事件属性",
					}
				}
				if scheme := bannedScheme(string(val)); scheme != "" {
					return &finding{
						"an HTML attribute " + k + "= with a " + scheme + " URL",
						scheme + " 链接",
					}
				}
			}
		}
	}
}
