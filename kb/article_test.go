package kb_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kefu-im/kefu/kb"
)

const validMarkdown = `---
id: invoice-available
title: 可以开发票吗？
category: presale
questions:
  - 能开发票不
  - 买了东西可以开票吗？
tags: [发票, 开票]
after_sales: false
---

可以的亲，本店所有商品都可以开具发票。
发票抬头可以是个人，也可以是公司。

`

func TestParseMarkdown(t *testing.T) {
	want := kb.Article{
		ID:        "invoice-available",
		Title:     "可以开发票吗？",
		Category:  kb.CategoryPresale,
		Questions: []string{"能开发票不", "买了东西可以开票吗？"},
		Answer:    "可以的亲，本店所有商品都可以开具发票。\n发票抬头可以是个人，也可以是公司。",
		Tags:      []string{"发票", "开票"},
	}
	tests := []struct {
		name string
		data string
	}{
		{"lf", validMarkdown},
		{"crlf", strings.ReplaceAll(validMarkdown, "\n", "\r\n")},
		{"bom", "\xef\xbb\xbf" + validMarkdown},
		{"bom and crlf", "\xef\xbb\xbf" + strings.ReplaceAll(validMarkdown, "\n", "\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kb.ParseMarkdown("invoice-available.md", []byte(tt.data))
			if err != nil {
				t.Fatalf("ParseMarkdown: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseMarkdown = %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseMarkdownAfterSales(t *testing.T) {
	data := "---\nid: return-procedure\ntitle: 怎么退货？\ncategory: aftersale\nafter_sales: true\n---\n请在订单中申请售后。\n"
	a, err := kb.ParseMarkdown("return-procedure.md", []byte(data))
	if err != nil {
		t.Fatalf("ParseMarkdown: %v", err)
	}
	if !a.AfterSales || a.Category != kb.CategoryAftersale {
		t.Errorf("ParseMarkdown = %+v, want an after-sales article in category aftersale", a)
	}
}

func TestParseMarkdownInvalid(t *testing.T) {
	// article builds a file from front matter lines and a body.
	article := func(front, body string) string { return "---\n" + front + "---\n" + body }
	const (
		id       = "id: invoice\n"
		title    = "title: 可以开发票吗？\n"
		category = "category: presale\n"
		answer   = "可以的亲，本店所有商品都可以开具发票。\n"
	)
	tests := []struct {
		name string
		data string
	}{
		{"missing front matter", "可以的亲，本店所有商品都可以开具发票。\n"},
		{"front matter not at the start", "\n" + article(id+title+category, answer)},
		{"unclosed front matter", "---\n" + id + title + category + answer},
		{"bad yaml", article(id+"title: [可以开发票吗\n"+category, answer)},
		{"empty title", article(id+"title: \"  \"\n"+category, answer)},
		{"missing title", article(id+category, answer)},
		{"empty answer", article(id+title+category, "  \n\n")},
		{"no body", "---\n" + id + title + category + "---"},
		{"unknown category", article(id+title+"category: misc\n", answer)},
		{"missing category", article(id+title, answer)},
		{"uppercase id", article("id: Invoice\n"+title+category, answer)},
		{"id with spaces", article("id: my invoice\n"+title+category, answer)},
		{"empty id", article("id: \"\"\n"+title+category, answer)},
		{"missing id", article(title+category, answer)},
		{"answer too large", article(id+title+category, strings.Repeat("票", kb.MaxAnswerBytes/len("票")+1))},
		{"empty question", article(id+title+category+"questions: [\"\"]\n", answer)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := kb.ParseMarkdown("bad.md", []byte(tt.data))
			if !errors.Is(err, kb.ErrInvalid) {
				t.Fatalf("ParseMarkdown = %+v, %v; want an error wrapping ErrInvalid", a, err)
			}
			if !strings.Contains(err.Error(), "bad.md") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestParseMarkdownAnswerAtLimit(t *testing.T) {
	body := strings.Repeat("a", kb.MaxAnswerBytes)
	data := "---\nid: long\ntitle: 长答案\ncategory: policy\n---\n" + body + "\n"
	a, err := kb.ParseMarkdown("long.md", []byte(data))
	if err != nil {
		t.Fatalf("ParseMarkdown of an answer of exactly MaxAnswerBytes: %v", err)
	}
	if len(a.Answer) != kb.MaxAnswerBytes {
		t.Errorf("len(Answer) = %d, want %d", len(a.Answer), kb.MaxAnswerBytes)
	}
}

func TestReadMarkdownFS(t *testing.T) {
	article := func(id string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("---\nid: " + id + "\ntitle: " + id + "\ncategory: presale\n---\nanswer\n")}
	}
	arts, err := kb.ReadMarkdownFS(fstest.MapFS{
		"b.md":         article("beta"),
		"a.md":         article("alpha"),
		"README.md":    {Data: []byte("# not an article\n")},
		"notes.txt":    {Data: []byte("not an article")},
		"sub/c.md":     article("gamma"),
		"sub/README":   {Data: []byte("x")},
		"z-broken.txt": {Data: []byte("---\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range arts {
		got = append(got, a.ID)
	}
	if strings.Join(got, ",") != "alpha,beta" {
		t.Errorf("ReadMarkdownFS = %v, want [alpha beta]: the top's *.md files in name order, README.md left out", got)
	}

	_, err = kb.ReadMarkdownFS(fstest.MapFS{"one.md": article("same"), "two.md": article("same")})
	if !errors.Is(err, kb.ErrInvalid) || !strings.Contains(err.Error(), "one.md") || !strings.Contains(err.Error(), "two.md") {
		t.Errorf("ReadMarkdownFS of a duplicate id: %v, want ErrInvalid naming both files", err)
	}
	_, err = kb.ReadMarkdownFS(fstest.MapFS{"ok.md": article("ok"), "broken.md": {Data: []byte("no front matter\n")}})
	if !errors.Is(err, kb.ErrInvalid) || !strings.Contains(err.Error(), "broken.md") {
		t.Errorf("ReadMarkdownFS of a broken article: %v, want ErrInvalid naming broken.md", err)
	}
}
