package knowledge_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
)

func diffEntry() kb.Entry {
	return kb.Entry{
		Article: kb.Article{
			ID: "return-policy", Title: "怎么退货？", Category: kb.CategoryAftersale,
			Questions: []string{"怎么退货", "能退吗", "退货流程"},
			Answer:    "亲，支持七天无理由退货。\n\n1. 申请退货\n2. 寄回商品",
			Tags:      []string{"退货", "售后"}, AfterSales: true,
		},
		Status: kb.StatusPublished, Version: 3,
	}
}

// diffText writes a diff one line per DiffLine, "<op> <text>", for readable failures.
func diffText(d []knowledge.DiffLine) string {
	var b strings.Builder
	for _, l := range d {
		fmt.Fprintf(&b, "%s %s\n", l.Op, l.Text)
	}
	return b.String()
}

// The lines of the diff of diffEntry that the cases of TestDiff leave as they are.
const (
	sameHead = `= title: 怎么退货？
= category: aftersale
= status: published
= after_sales: true
= tags: 退货, 售后
`
	sameQuestions = `= question: 怎么退货
= question: 能退吗
= question: 退货流程
`
	sameAnswer = `= answer:
= 亲，支持七天无理由退货。
= 
= 1. 申请退货
= 2. 寄回商品
`
)

func TestDiff(t *testing.T) {
	base := diffEntry()
	tests := []struct {
		name string
		a, b kb.Entry
		want string
	}{
		{
			name: "identical",
			a:    base, b: base,
			want: sameHead + sameQuestions + sameAnswer,
		},
		{
			name: "changed question",
			a:    base,
			b:    editEntry(base, func(e *kb.Entry) { e.Questions = []string{"怎么退货", "可以退吗", "退货流程"} }),
			want: sameHead + `= question: 怎么退货
- question: 能退吗
+ question: 可以退吗
= question: 退货流程
` + sameAnswer,
		},
		{
			name: "added and removed questions",
			a:    base,
			b:    editEntry(base, func(e *kb.Entry) { e.Questions = []string{"能退吗", "退货流程", "退货地址", "退货运费"} }),
			want: sameHead + `- question: 怎么退货
= question: 能退吗
= question: 退货流程
+ question: 退货地址
+ question: 退货运费
` + sameAnswer,
		},
		{
			name: "answer edits and status",
			a:    base,
			b: editEntry(base, func(e *kb.Entry) {
				e.Status = kb.StatusDraft
				e.Answer = "亲，支持七天无理由退货。\n\n1. 在订单页申请退货\n2. 寄回商品\n3. 等待退款"
			}),
			want: `= title: 怎么退货？
= category: aftersale
- status: published
+ status: draft
= after_sales: true
= tags: 退货, 售后
` + sameQuestions + `= answer:
= 亲，支持七天无理由退货。
= 
- 1. 申请退货
+ 1. 在订单页申请退货
= 2. 寄回商品
+ 3. 等待退款
`,
		},
		{
			name: "title, tags, lang and after_sales",
			a:    base,
			b: editEntry(base, func(e *kb.Entry) {
				e.Title = "如何退货"
				e.Tags = nil
				e.Lang = "zh"
				e.AfterSales = false
				e.Questions = nil
				e.Answer = ""
			}),
			want: `- title: 怎么退货？
+ title: 如何退货
= category: aftersale
= status: published
- after_sales: true
- tags: 退货, 售后
- question: 怎么退货
- question: 能退吗
- question: 退货流程
+ after_sales: false
+ lang: zh
+ tags: 
= answer:
- 亲，支持七天无理由退货。
- 
- 1. 申请退货
- 2. 寄回商品
`,
		},
		{
			name: "creation",
			a:    kb.Entry{},
			b:    editEntry(base, func(e *kb.Entry) { e.Questions = e.Questions[:1]; e.Answer = "好的\r\n谢谢" }),
			want: `+ title: 怎么退货？
+ category: aftersale
+ status: published
+ after_sales: true
+ tags: 退货, 售后
+ question: 怎么退货
+ answer:
+ 好的
+ 谢谢
`,
		},
		{
			name: "deletion view",
			a:    editEntry(base, func(e *kb.Entry) { e.Questions = nil; e.Tags = nil; e.Answer = "好" }),
			b:    kb.Entry{},
			want: `- title: 怎么退货？
- category: aftersale
- status: published
- after_sales: true
- tags: 
- answer:
- 好
`,
		},
		{
			name: "both empty",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diffText(knowledge.Diff(tt.a, tt.b))
			if got != tt.want {
				t.Errorf("Diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func editEntry(e kb.Entry, f func(*kb.Entry)) kb.Entry {
	e.Questions = append([]string(nil), e.Questions...)
	e.Tags = append([]string(nil), e.Tags...)
	f(&e)
	return e
}

// TestDiffIsEditScript checks on larger answers that a diff is an edit script (its "="
// and "-" lines are a's lines, its "=" and "+" lines b's) that keeps as many lines as
// a longest common subsequence does, or, over the size cap, only the common head and
// tail.
func TestDiffIsEditScript(t *testing.T) {
	// lines returns n lines, those at multiples of step (and only those) starting with
	// prefix, and a final newline.
	lines := func(n, step int, prefix string) string {
		var b strings.Builder
		for i := range n {
			if i%step == 0 {
				fmt.Fprintf(&b, "%s %d\n", prefix, i)
			} else {
				fmt.Fprintf(&b, "line %d\n", i)
			}
		}
		return b.String()
	}
	// Every diff keeps the 9 lines before the answer's and the empty line after its
	// final newline.
	const kept = 9 + 1
	tests := []struct {
		name      string
		a, b      string
		wantEqual int
	}{
		{"few changes", lines(1000, 100, "old"), lines(1000, 100, "new"), kept + 990},
		{"every third line", lines(1500, 3, "old"), lines(1500, 3, "new"), kept + 1000},
		{"reordered", "a\nb\nc\nd\n", "d\nc\nb\na\n", kept + 1},
		{"all different", lines(500, 1, "x"), lines(500, 1, "y"), kept},
		{"insertions only", lines(300, 1, "x"), lines(300, 1, "x") + lines(300, 1, "y"), kept + 300},
		// The 2499 × 2499 lines between the first and the last that differ are over
		// the cap: shown as all removed, then all added, though half of them are
		// equal.
		{"over the cap", lines(2500, 2, "old"), lines(2500, 2, "new"), kept + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := diffEntry(), diffEntry()
			a.Answer, b.Answer = tt.a, tt.b
			d := knowledge.Diff(a, b)
			equal := 0
			for _, l := range d {
				switch l.Op {
				case knowledge.OpEqual:
					equal++
				case knowledge.OpRemove, knowledge.OpAdd:
				default:
					t.Fatalf("line %+v has op %q", l, l.Op)
				}
			}
			if got, want := diffSide(d, knowledge.OpRemove), diffSide(knowledge.Diff(a, a), ""); !reflect.DeepEqual(got, want) {
				t.Errorf("the diff's = and - lines are not a's lines")
			}
			if got, want := diffSide(d, knowledge.OpAdd), diffSide(knowledge.Diff(b, b), ""); !reflect.DeepEqual(got, want) {
				t.Errorf("the diff's = and + lines are not b's lines")
			}
			if equal != tt.wantEqual {
				t.Errorf("diff keeps %d lines, want %d", equal, tt.wantEqual)
			}
		})
	}
}

// diffSide returns the text of the "=" lines of d and of those with op.
func diffSide(d []knowledge.DiffLine, op string) []string {
	var out []string
	for _, l := range d {
		if l.Op == knowledge.OpEqual || l.Op == op {
			out = append(out, l.Text)
		}
	}
	return out
}

func TestDiffLineJSON(t *testing.T) {
	b, err := json.Marshal(knowledge.DiffLine{Op: knowledge.OpAdd, Text: "question: 能退吗"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"op":"+","text":"question: 能退吗"}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	var back []knowledge.DiffLine
	if err := json.Unmarshal([]byte(`[{"op":"=","text":"x"}]`), &back); err != nil {
		t.Fatal(err)
	}
	if want := []knowledge.DiffLine{{Op: "=", Text: "x"}}; !reflect.DeepEqual(back, want) {
		t.Errorf("decoded %+v, want %+v", back, want)
	}
}
