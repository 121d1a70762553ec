package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
	"github.com/rs/zerolog"
)

// evalCmd runs "kefu eval --kb PATH --questions FILE[,FILE…]": the labelled questions
// through the real bot on the given knowledge, and prints the figures.
func evalCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kbPath := fs.String("kb", "", "knowledge: a directory of Markdown articles or a .jsonl file (default: the bundled knowledge)")
	questions := fs.String("questions", "", "labelled questions, JSON Lines; several files separated by commas are joined")
	title := fs.String("title", "", "title of the report (default: the questions file)")
	misses := fs.Int("misses", 20, "how many misses to list")
	answer := fs.Float64("answer-threshold", 0, "answer threshold (default: the bot's)")
	clarify := fs.Float64("clarify-threshold", 0, "clarify threshold (default: the bot's)")
	baseline := fs.Bool("baseline", false, "also report plain bleve (standard analyzer, one document per question, top hit, best threshold in hindsight)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *questions == "" {
		return errors.New("usage: kefu eval [--kb DIR_OR_FILE] --questions FILE[,FILE…]")
	}
	var arts []kb.Article
	var err error
	if *kbPath == "" {
		arts, err = knowledge.Bundled()
	} else {
		arts, err = knowledge.Load(*kbPath)
	}
	if err != nil {
		return fmt.Errorf("loading knowledge: %w", err)
	}
	idx, err := kb.New(kb.Config{})
	if err != nil {
		return err
	}
	defer idx.Close()
	if err := idx.Put(ctx, arts...); err != nil {
		return err
	}
	b, err := bot.New(bot.Config{Searcher: idx, AnswerThreshold: *answer, ClarifyThreshold: *clarify, Logger: zerolog.Nop()})
	if err != nil {
		return err
	}
	var qs []bot.Question
	for _, path := range strings.Split(*questions, ",") {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		more, err := bot.ReadQuestions(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		qs = append(qs, more...)
	}
	rep, err := bot.Evaluate(ctx, b, qs)
	if err != nil {
		return err
	}
	if *title == "" {
		*title = *questions
	}
	rep.Write(stdout, fmt.Sprintf("%s (%d articles)", *title, len(arts)), *misses)
	if *baseline {
		return writeBaseline(ctx, stdout, arts, qs)
	}
	return nil
}

// writeBaseline reports plain bleve's HINT3 accuracy with its best threshold in hindsight.
func writeBaseline(ctx context.Context, w io.Writer, arts []kb.Article, qs []bot.Question) error {
	base, err := kb.NewBaseline(arts)
	if err != nil {
		return err
	}
	defer base.Close()
	preds, scores, labels := make([]string, len(qs)), make([]float64, len(qs)), make([]string, len(qs))
	p1 := 0
	for i, q := range qs {
		if preds[i], scores[i], err = base.Top(ctx, q.Text); err != nil {
			return err
		}
		labels[i] = q.Article
		if q.Article != "" && preds[i] == q.Article {
			p1++
		}
	}
	acc, t := kb.BestThresholdAccuracy(preds, scores, labels)
	fmt.Fprintf(w, "baseline (plain bleve)  HINT3 accuracy %.3f at threshold %.3f chosen in hindsight; top-1 right %d\n", acc, t, p1)
	return nil
}
