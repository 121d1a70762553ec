package knowledge_test

import (
	"reflect"
	"sort"
	"testing"
)

// TestListFilters checks the list's status, tag, category and review filters, alone
// and together, with and without a search.
func TestListFilters(t *testing.T) {
	e := newEnv(t, nil)
	for _, a := range []map[string]any{
		{"id": "pub-invoice", "title": "可以开发票吗", "category": "presale", "answer": "可以开电子发票。", "tags": []string{"发票"}, "status": "published"},
		{"id": "pub-ship", "title": "几天发货", "category": "insale", "answer": "48 小时内发货。", "tags": []string{"发货", "物流"}, "status": "published"},
		{"id": "draft-invoice", "title": "专票怎么开", "category": "presale", "answer": "专票请联系客服。", "tags": []string{"发票", "专票"}, "status": "draft"},
		{"id": "draft-return", "title": "七天无理由退货", "category": "aftersale", "answer": "签收后七天内可退。", "status": "draft"},
	} {
		if code := e.call("ed", "POST", "/api/articles", a, nil); code != 201 {
			t.Fatalf("create %s: %d", a["id"], code)
		}
	}
	var p article
	if code := e.call("agent", "POST", "/api/proposals", map[string]any{"title": "发票能补开吗", "answer": "可以补开。", "tags": []string{"发票"}}, &p); code != 201 {
		t.Fatalf("propose: %d", code)
	}
	e.waitIndexed("pub-ship", true)

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"draft-invoice", "draft-return", p.ID, "pub-invoice", "pub-ship"}},
		{"status=published", []string{"pub-invoice", "pub-ship"}},
		{"status=draft", []string{"draft-invoice", "draft-return", p.ID}},
		{"tag=发票", []string{"draft-invoice", p.ID, "pub-invoice"}},
		{"tag=物流", []string{"pub-ship"}},
		{"tag=发", nil}, // a tag matches whole, not by prefix
		{"tag=发票&status=published", []string{"pub-invoice"}},
		{"tag=发票&status=draft", []string{"draft-invoice", p.ID}},
		{"tag=发票&status=draft&review=1", []string{p.ID}},
		{"tag=发票&status=draft&review=0", []string{"draft-invoice"}},
		{"status=draft&category=aftersale", []string{"draft-return"}},
		{"status=archived", nil},
		{"q=专票&status=draft", []string{"draft-invoice"}},
		{"q=补开&status=published", nil},
		{"q=发票&status=published&tag=发票", []string{"pub-invoice"}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			var list struct{ Articles []listed }
			if code := e.call("ed", "GET", "/api/articles?"+c.query, nil, &list); code != 200 {
				t.Fatalf("status %d", code)
			}
			var got []string
			for _, a := range list.Articles {
				got = append(got, a.ID)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
