package bot_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/kefu-im/kefu/kb/kbtest"
)

var update = flag.Bool("update", false, "rewrite testdata/dialogs.golden")

// TestDialogs runs the dialogs of testdata/dialogs.txt through the real bot on the
// bundled knowledge, carrying each turn into the next as the widget does, and compares
// what the bot did with testdata/dialogs.golden.
func TestDialogs(t *testing.T) {
	arts, err := kbtest.Bundled()
	if err != nil {
		t.Fatal(err)
	}
	idx := kbtest.Index(t, arts...)
	b, err := bot.New(bot.Config{Searcher: idx})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/dialogs.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	var prev *bot.Turn
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "== "):
			fmt.Fprintf(&out, "\n%s\n", line)
			prev = nil
			continue
		}
		d, err := b.Decide(context.Background(), bot.Input{Text: line, Previous: prev})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%s\n  -> %s\n", line, describe(d))
		if d.Action == triage.Handoff {
			prev = nil // a person takes over
			continue
		}
		prev = &bot.Turn{Text: line, Weak: d.Action == triage.Clarify}
		if d.Action == triage.Answer {
			prev.Article = d.Article.ID
		}
	}
	got := strings.TrimLeft(out.String(), "\n")
	if *update {
		if err := os.WriteFile("testdata/dialogs.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("testdata/dialogs.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("dialogs differ from testdata/dialogs.golden (run with -update and review the diff):\n%s", lineDiff(got, string(want)))
	}
}

func describe(d bot.Decision) string {
	s := string(d.Action)
	if d.Reason != "" {
		s += " " + string(d.Reason)
	}
	if d.Action == triage.Clarify {
		var ids []string
		for _, sug := range d.Suggestions {
			ids = append(ids, sug.ID)
		}
		return s + " [" + strings.Join(ids, " ") + "]"
	}
	if d.Article != nil && (d.Action == triage.Answer || d.Text != "") {
		s += " " + d.Article.ID
	}
	return s + " intent=" + string(d.Intent)
}

// lineDiff lists the lines that differ, as -got +want.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, gl, wl)
		}
	}
	return b.String()
}
