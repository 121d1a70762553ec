package knowledge

import (
	"strconv"
	"strings"

	"github.com/kefu-im/kefu/kb"
)

// Operations of a DiffLine.
const (
	OpEqual  = "="
	OpRemove = "-"
	OpAdd    = "+"
)

// DiffLine is one line of the difference between two versions of an article.
type DiffLine struct {
	// Op is OpEqual for a line both versions have, OpRemove for a line only the older
	// one has and OpAdd for a line only the newer one has.
	Op   string `json:"op"`
	Text string `json:"text"`
}

// maxDiffCells caps the table of the line diff: above it, the lines that differ are
// shown as all removed, then all added.
const maxDiffCells = 4_000_000

// Diff returns the line difference from entry a to entry b, for the version history.
// Each entry is written as lines: "title: …", "category: …", "status: …",
// "after_sales: …", "lang: …" (when set), "tags: x, y", one "question: …" per question,
// then "answer:" followed by the answer's lines. An entry with an empty ID (no version,
// as before an article's creation) has no lines, so that every line of the other is
// added or removed.
//
// The difference is a shortest edit script (a longest common subsequence of lines);
// when the lines that differ, after the common head and tail, would need a table of
// more than 4,000,000 cells, they are shown as all removed, then all added.
func Diff(a, b kb.Entry) []DiffLine {
	return diffLines(entryLines(a), entryLines(b))
}

// entryLines writes e as the lines Diff compares.
func entryLines(e kb.Entry) []string {
	if e.ID == "" {
		return nil
	}
	lines := []string{
		"title: " + e.Title,
		"category: " + e.Category,
		"status: " + e.Status,
		"after_sales: " + strconv.FormatBool(e.AfterSales),
	}
	if e.Lang != "" {
		lines = append(lines, "lang: "+e.Lang)
	}
	lines = append(lines, "tags: "+strings.Join(e.Tags, ", "))
	for _, q := range e.Questions {
		lines = append(lines, "question: "+q)
	}
	lines = append(lines, "answer:")
	if answer := strings.ReplaceAll(e.Answer, "\r\n", "\n"); answer != "" {
		lines = append(lines, strings.Split(answer, "\n")...)
	}
	return lines
}

// diffLines returns a shortest edit script from a to b. It keeps the common head and
// tail, and diffs the middle with a longest-common-subsequence table, or, when that
// table would pass maxDiffCells, shows the middle as removed then added.
func diffLines(a, b []string) []DiffLine {
	out := make([]DiffLine, 0, max(len(a), len(b)))
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		out = append(out, DiffLine{OpEqual, a[head]})
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	am, bm := a[head:len(a)-tail], b[head:len(b)-tail]
	n, m := len(am), len(bm)
	switch {
	case n == 0 || m == 0 || n*m > maxDiffCells:
		for _, s := range am {
			out = append(out, DiffLine{OpRemove, s})
		}
		for _, s := range bm {
			out = append(out, DiffLine{OpAdd, s})
		}
	default:
		out = appendLCSDiff(out, am, bm)
	}
	for _, s := range a[len(a)-tail:] {
		out = append(out, DiffLine{OpEqual, s})
	}
	return out
}

// appendLCSDiff appends to out the edit script from a to b read off a table of the
// lengths of the longest common subsequences of their suffixes; where both a removal
// and an addition are shortest, the removal comes first. len(a)*len(b) is at most
// maxDiffCells, so min(len(a), len(b)), and so every length in the table, fits a
// uint16.
func appendLCSDiff(out []DiffLine, a, b []string) []DiffLine {
	// Compare small integers rather than strings in the n*m loop.
	ids := make(map[string]int32, len(a)+len(b))
	intern := func(ss []string) []int32 {
		out := make([]int32, len(ss))
		for i, s := range ss {
			id, ok := ids[s]
			if !ok {
				id = int32(len(ids))
				ids[s] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := intern(a), intern(b)
	n, m := len(x), len(y)
	w := m + 1
	// lcs[i*w+j] is the length of a longest common subsequence of x[i:] and y[j:].
	lcs := make([]uint16, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case x[i] == y[j]:
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
				lcs[i*w+j] = lcs[(i+1)*w+j]
			default:
				lcs[i*w+j] = lcs[i*w+j+1]
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			out = append(out, DiffLine{OpEqual, a[i]})
			i++
			j++
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			out = append(out, DiffLine{OpRemove, a[i]})
			i++
		default:
			out = append(out, DiffLine{OpAdd, b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{OpRemove, a[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{OpAdd, b[j]})
	}
	return out
}

// changedEntryFields names the fields in which entry b differs from entry a, in this order:
// "title", "category", "questions", "answer", "tags", "after_sales", "lang" (compared as
// an import compares them) and "status".
func changedEntryFields(a, b kb.Entry) []string {
	fields := changedFields(a.Article, b.Article)
	if a.Status != b.Status {
		fields = append(fields, "status")
	}
	if fields == nil {
		fields = []string{}
	}
	return fields
}
