package knowledge_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
)

func TestWriteMarkdownRoundTripBundled(t *testing.T) {
	for _, a := range bundled(t) {
		md := knowledge.WriteMarkdown(a)
		back, err := kb.ParseMarkdown(a.ID+".md", md)
		if err != nil {
			t.Errorf("%s: ParseMarkdown(WriteMarkdown) = %v\n%s", a.ID, err, md)
			continue
		}
		if !reflect.DeepEqual(back, a) {
			t.Errorf("%s: round trip gives\n%+v\nwant\n%+v", a.ID, back, a)
		}
	}
}

func TestWriteMarkdownRoundTripTricky(t *testing.T) {
	base := kb.Article{
		ID: "tricky", Title: "怎么退货？", Category: kb.CategoryAftersale,
		Questions: []string{"怎么退货"}, Answer: "好的",
	}
	tests := []struct {
		name string
		edit func(a *kb.Article)
	}{
		{"colons", func(a *kb.Article) {
			a.Title = "注意: 退货地址: 见下"
			a.Questions = []string{"key: value", "a:b", "http://example.com"}
		}},
		{"quotes", func(a *kb.Article) {
			a.Title = `他说"可以退"`
			a.Questions = []string{`"整句引号"`, `'单引号'`, `it's`, `a "b" 'c'`}
		}},
		{"leading dashes and markers", func(a *kb.Article) {
			a.Title = "- 以短横开头"
			a.Questions = []string{"---", "--- 分隔", "-1", "? 问号开头", "# 井号", "! 感叹号", "& 锚", "* 星号", "| 竖线", "> 大于", "% 百分号", "@ at", "` 反引号", "[方括号]", "{花括号}"}
		}},
		{"YAML types as text", func(a *kb.Article) {
			a.Questions = []string{"yes", "no", "true", "null", "~", "123", "0x1F", "1e3", "2024-01-01", ".inf"}
			a.Tags = []string{"on", "off", "3.14"}
		}},
		{"full-width punctuation", func(a *kb.Article) {
			a.Title = "【活动】满 300 减 50：怎么用？"
			a.Questions = []string{"：冒号开头", "，逗号", "「引号」", "（括号）", "——破折号"}
			a.Tags = []string{"活动，优惠", "满减：规则"}
		}},
		{"tags needing quotes in a flow list", func(a *kb.Article) {
			a.Tags = []string{"a, b", "[x]", "{y}", "c: d", "#e", " spaced "}
		}},
		{"white space in values", func(a *kb.Article) {
			a.Title = " 前后有空格 "
			a.Questions = []string{"tab\there", "line one\nline two", "trailing\n"}
		}},
		{"multi-line answer", func(a *kb.Article) {
			a.Answer = "亲，退货步骤：\n\n1. 申请\n2. 寄回\n\n---\n\nid: not-front-matter\n---\n| a | b |\n|---|---|\n\n    code"
		}},
		{"answer starting with a rule", func(a *kb.Article) {
			a.Answer = "---\n正文"
		}},
		{"lang, after_sales, no questions", func(a *kb.Article) {
			a.Lang = "en"
			a.AfterSales = true
			a.Questions = nil
			a.Title = "How do I return an item?"
			a.Answer = "Hi! Request a return in **Orders**."
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base
			tt.edit(&a)
			md := knowledge.WriteMarkdown(a)
			back, err := kb.ParseMarkdown("tricky.md", md)
			if err != nil {
				t.Fatalf("ParseMarkdown(WriteMarkdown) = %v\n%s", err, md)
			}
			if !reflect.DeepEqual(back, a) {
				t.Errorf("round trip gives\n%#v\nwant\n%#v\nMarkdown:\n%s", back, a, md)
			}
		})
	}
}

func TestWriteMarkdownNormalizesAnswer(t *testing.T) {
	a := kb.Article{
		ID: "crlf", Title: "t", Category: kb.CategoryPolicy,
		Answer: "\n  第一行\r\n第二行\r\n\n",
	}
	md := string(knowledge.WriteMarkdown(a))
	want := "---\nid: crlf\ntitle: t\ncategory: policy\nafter_sales: false\n---\n第一行\n第二行\n"
	if md != want {
		t.Errorf("WriteMarkdown =\n%q\nwant\n%q", md, want)
	}
}

func TestExportZipRoundTrip(t *testing.T) {
	arts := bundled(t)
	var buf bytes.Buffer
	if err := knowledge.ExportZip(&buf, arts); err != nil {
		t.Fatalf("ExportZip: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(arts) {
		t.Fatalf("zip holds %d files, want %d", len(zr.File), len(arts))
	}
	for i, f := range zr.File {
		if want := "articles/" + arts[i].ID + ".md"; f.Name != want {
			t.Errorf("file %d is %q, want %q", i, f.Name, want)
		}
	}
	got, problems, err := knowledge.ReadImport("export.zip", buf.Bytes())
	if err != nil || len(problems) > 0 {
		t.Fatalf("ReadImport(export) = %v, %v", problems, err)
	}
	if !reflect.DeepEqual(got, arts) {
		t.Errorf("ReadImport(ExportZip(bundled)) differs from bundled")
	}

	var again bytes.Buffer
	if err := knowledge.ExportZip(&again, arts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("two exports of the same articles differ")
	}
}

func TestExportZipRefusesBadIDs(t *testing.T) {
	for _, ids := range [][]string{{"../evil"}, {""}, {"a", "a"}, {`a\b`}} {
		var arts []kb.Article
		for _, id := range ids {
			arts = append(arts, kb.Article{ID: id})
		}
		if err := knowledge.ExportZip(new(bytes.Buffer), arts); !errors.Is(err, kb.ErrInvalid) {
			t.Errorf("ExportZip(ids %q) = %v, want ErrInvalid", ids, err)
		}
	}
}

func TestExportJSONLRoundTrip(t *testing.T) {
	arts := bundled(t)
	arts = append(arts, kb.Article{
		ID: "html-chars", Title: "a < b & c", Category: kb.CategoryPresale,
		Questions: []string{"<数量>"}, Answer: "2<3 & 4>3\n第二行",
	})
	var buf bytes.Buffer
	if err := knowledge.ExportJSONL(&buf, arts); err != nil {
		t.Fatalf("ExportJSONL: %v", err)
	}
	if n := strings.Count(buf.String(), "\n"); n != len(arts) {
		t.Errorf("ExportJSONL wrote %d lines, want %d", n, len(arts))
	}
	if !strings.Contains(buf.String(), `"title":"a < b & c"`) {
		t.Errorf("ExportJSONL escapes < and &; want them as they are")
	}
	got, err := kb.ReadJSONL(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("kb.ReadJSONL: %v", err)
	}
	if !reflect.DeepEqual(got, arts) {
		t.Errorf("kb.ReadJSONL(ExportJSONL(arts)) differs from arts")
	}
	got, problems, err := knowledge.ReadImport("export.jsonl", buf.Bytes())
	if err != nil || len(problems) > 0 {
		t.Fatalf("ReadImport(export) = %v, %v", problems, err)
	}
	if !reflect.DeepEqual(got, arts) {
		t.Errorf("ReadImport(ExportJSONL(arts)) differs from arts")
	}
}

// Markdown files for the import tests.
const (
	okMD       = "---\nid: ok\ntitle: 可以开发票吗？\ncategory: presale\nquestions: [能开发票不]\n---\n可以的亲。\n"
	nestedMD   = "---\nid: nested\ntitle: 快递到哪了？\ncategory: insale\n---\n亲，请看订单详情。\n"
	noFrontMD  = "# 只是标题\n\n没有 front matter。\n"
	badYAMLMD  = "---\nid: bad-yaml\ntitle: a: b\ncategory: presale\n---\n正文\n"
	badCatMD   = "---\nid: bad-cat\ntitle: 分类不对\ncategory: sales\n---\n正文\n"
	unsafeMD   = "---\nid: unsafe\ntitle: 不安全\ncategory: presale\n---\n[点我](javascript:alert(1))\n"
	dupOkMD    = "---\nid: ok\ntitle: 另一个\ncategory: policy\n---\n重复的 id\n"
	readmeMD   = "# Articles\n\nThis folder holds the articles.\n"
	appleDblMD = "\x00\x05\x16\x07 Mac OS X resource fork"
)
