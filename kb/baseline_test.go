package kb

import (
	"context"
	"testing"
)

func TestBaseline(t *testing.T) {
	arts := []Article{
		{ID: "trial", Title: "100 night trial", Category: CategoryPresale, Answer: "x", Questions: []string{"can I try the mattress first"}},
		{ID: "emi", Title: "EMI options", Category: CategoryPresale, Answer: "x", Questions: []string{"do you offer monthly installments"}},
	}
	b, err := NewBaseline(arts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	id, score, err := b.Top(context.Background(), "can i try it first")
	if err != nil || id != "trial" || score <= 0 {
		t.Fatalf("Top = %q %v %v, want trial", id, score, err)
	}
	if id, _, _ := b.Top(context.Background(), "zzzz"); id != "" {
		t.Errorf("Top(no match) = %q, want none", id)
	}
}

func TestBestThresholdAccuracy(t *testing.T) {
	preds := []string{"a", "b", "a", "c"}
	scores := []float64{0.9, 0.2, 0.8, 0.1}
	labels := []string{"a", "", "a", ""} // the two weak hits are out of scope
	acc, th := BestThresholdAccuracy(preds, scores, labels)
	if acc != 1 || th <= 0.2 || th > 0.8 {
		t.Errorf("BestThresholdAccuracy = %v at %v, want 1 at a threshold in (0.2, 0.8]", acc, th)
	}
}
