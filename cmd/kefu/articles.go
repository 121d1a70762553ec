package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
)

const articlesUsage = `usage:
  kefu articles import [--dry-run] [--status draft|published] PATH
      PATH is a directory of Markdown articles (the knowledge/ format), a zip of them,
      or a JSON Lines file; new ids are created, changed articles updated, nothing deleted
  kefu articles export [--format zip|jsonl] [--status draft|published] FILE|-`

// articlesCmd imports articles into, or exports them from, the configured data
// (adminOps), where a running server's editors and bot see them at once.
func articlesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "export") {
		return errors.New(articlesUsage)
	}
	var c config
	fs := newFlagSet("articles "+args[0], &c, stderr)
	dry := fs.Bool("dry-run", false, "import: report what would change, change nothing")
	status := fs.String("status", "", "import: status of the saved articles (default: published for new ones, unchanged for others); export: only these")
	format := fs.String("format", "zip", "export: zip or jsonl")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(articlesUsage)
	}
	if *status != "" && *status != kb.StatusDraft && *status != kb.StatusPublished {
		return fmt.Errorf("--status %q: want draft or published", *status)
	}
	ops, done, err := openOps(c)
	if err != nil {
		return err
	}
	defer done()
	if args[0] == "export" {
		return exportArticles(ctx, ops, *format, *status, fs.Arg(0), stdout)
	}
	return importArticles(ctx, ops, fs.Arg(0), *status, *dry, stdout)
}

func importArticles(ctx context.Context, ops adminOps, path, status string, dry bool, stdout io.Writer) error {
	var arts []kb.Article
	var problems []knowledge.ImportProblem
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() {
		arts, problems, err = knowledge.ReadImportDir(path)
	} else {
		var data []byte
		if data, err = os.ReadFile(path); err == nil {
			arts, problems, err = knowledge.ReadImport(filepath.Base(path), data)
		}
	}
	if err != nil {
		return err
	}
	for _, p := range problems {
		where := p.File
		if p.Line > 0 {
			where = fmt.Sprintf("%s:%d", p.File, p.Line)
		}
		fmt.Fprintf(stdout, "skipped %s: %s\n", where, p.Message)
	}
	plan, n, err := ops.Import(ctx, arts, status, dry)
	verb := "would create"
	if !dry {
		verb = "created"
	}
	fmt.Fprintf(stdout, "%s %d: %s\n", verb, len(plan.Create), strings.Join(plan.Create, " "))
	for _, u := range plan.Update {
		fmt.Fprintf(stdout, "%s %s (%s)\n", map[bool]string{true: "would update", false: "updated"}[dry], u.ID, strings.Join(u.Fields, ", "))
	}
	fmt.Fprintf(stdout, "unchanged %d, problems %d", len(plan.Unchanged), len(problems))
	if !dry {
		fmt.Fprintf(stdout, ", saved %d", n)
	}
	fmt.Fprintln(stdout)
	return err
}

func exportArticles(ctx context.Context, ops adminOps, format, status, path string, stdout io.Writer) error {
	entries, err := ops.Articles(ctx)
	if err != nil {
		return err
	}
	var arts []kb.Article
	for _, e := range entries {
		if status == "" || e.Status == status {
			arts = append(arts, e.Article)
		}
	}
	var buf bytes.Buffer
	switch format {
	case "zip":
		err = knowledge.ExportZip(&buf, arts)
	case "jsonl":
		err = knowledge.ExportJSONL(&buf, arts)
	default:
		return fmt.Errorf("--format %q: want zip or jsonl", format)
	}
	if err != nil {
		return err
	}
	if path == "-" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
