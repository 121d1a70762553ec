package kb_test

import (
	"strings"
	"testing"

	"github.com/kefu-im/kefu/kb"
)

// An after-sales article of the public sets carries only its category: it is an
// after-sales procedure unless it says otherwise.
func TestReadJSONLAfterSales(t *testing.T) {
	in := strings.Join([]string{
		`{"id": "return_exchange", "title": "Return exchange", "category": "aftersale", "questions": ["I want to return it"], "answer": "Return exchange"}`,
		`{"id": "refund-timing", "title": "退款多久到账", "category": "aftersale", "answer": "1-3个工作日", "after_sales": false}`,
		`{"id": "emi", "title": "EMI", "category": "presale", "answer": "EMI"}`,
		`{"id": "repair", "title": "Repair", "category": "presale", "answer": "We repair", "after_sales": true}`,
	}, "\n")
	arts, err := kb.ReadJSONL(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ReadJSONL: %v", err)
	}
	want := map[string]bool{"return_exchange": true, "refund-timing": false, "emi": false, "repair": true}
	for _, a := range arts {
		if a.AfterSales != want[a.ID] {
			t.Errorf("%s: after_sales %v, want %v", a.ID, a.AfterSales, want[a.ID])
		}
	}
	if len(arts) != len(want) {
		t.Errorf("read %d articles, want %d", len(arts), len(want))
	}
}
