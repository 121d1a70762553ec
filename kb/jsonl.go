package kb

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ReadJSONL reads articles in JSON Lines, one article per line, in the format of the
// public evaluation sets: {"id", "title", "category", "questions", "answer", "lang",
// "tags", "after_sales"}. Blank lines are skipped; an invalid line is an error naming it.
// An article of category aftersale without "after_sales" is an after-sales procedure
// (after_sales true), as in the public sets, which mark after-sales intents by their
// category only; an after-sales policy the bot answers itself says "after_sales": false.
func ReadJSONL(r io.Reader) ([]Article, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var out []Article
	seen := make(map[string]int)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var a Article
		var flag struct {
			AfterSales *bool `json:"after_sales"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrInvalid, n, err)
		}
		if err := json.Unmarshal([]byte(line), &flag); err == nil && flag.AfterSales == nil {
			a.AfterSales = a.Category == CategoryAftersale
		}
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if prev, ok := seen[a.ID]; ok {
			return nil, fmt.Errorf("%w: lines %d and %d share the id %q", ErrInvalid, prev, n, a.ID)
		}
		seen[a.ID] = n
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading articles: %w", err)
	}
	return out, nil
}
