package knowledge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/kb"
)

// maxImport bounds the body of an import: a zip or JSON Lines file of articles.
const maxImport = 20 << 20

// Preview handles POST /api/editor/preview {answer}: the answer rendered as the widget
// and console show it, and the problem a save would report, if any.
func (s *Service) Preview() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Answer string `json:"answer"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		out := map[string]string{"html": RenderMarkdown(in.Answer)}
		if err := CheckContent(kb.Article{Answer: in.Answer}); err != nil {
			out["problem"] = web.MessageFrom(err, ErrUnsafeContent)
		}
		web.WriteJSON(w, http.StatusOK, out)
	})
}

// Ask handles POST /api/editor/ask {text, draft}: what the bot would do with a
// shopper's question, against the published articles, and, when a draft is given,
// against the published articles with the draft in place of its published version.
func (s *Service) Ask() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Text  string        `json:"text"`
			Draft *articleInput `json:"draft"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if strings.TrimSpace(in.Text) == "" {
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "请输入顾客的问题 (type a shopper's question)")
			return
		}
		pub, err := s.bot.Decide(r.Context(), bot.Input{Text: in.Text})
		if err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		out := map[string]any{"published": pub}
		if in.Draft != nil {
			id := strings.TrimSpace(in.Draft.ID)
			if id == "" {
				id = "draft"
			}
			d := *in.Draft
			d.Status = kb.StatusPublished
			e, err := d.entry(id)
			if err != nil {
				storeErrors.Write(w, r, err)
				return
			}
			dec, err := s.askDraft(r.Context(), in.Text, e.Article)
			if err != nil {
				storeErrors.Write(w, r, err)
				return
			}
			out["draft"] = dec
		}
		web.WriteJSON(w, http.StatusOK, out)
	})
}

// askDraft decides on text with an index of the published articles in which draft
// replaces the article of its id. The index is built for the one question: a fraction
// of a second for a few hundred articles.
func (s *Service) askDraft(ctx context.Context, text string, draft kb.Article) (bot.Decision, error) {
	entries, err := s.store.List(ctx)
	if err != nil {
		return bot.Decision{}, err
	}
	arts := []kb.Article{draft}
	for _, e := range entries {
		if e.Status == kb.StatusPublished && e.ID != draft.ID {
			arts = append(arts, e.Article)
		}
	}
	x, err := kb.New(kb.Config{Logger: s.log})
	if err != nil {
		return bot.Decision{}, err
	}
	defer x.Close()
	if err := x.Put(ctx, arts...); err != nil {
		return bot.Decision{}, err
	}
	b, err := s.cfg.NewBot(x)
	if err != nil {
		return bot.Decision{}, err
	}
	return b.Decide(ctx, bot.Input{Text: text})
}

// Propose handles POST /api/proposals: an agent proposes an article from a chat. It is
// saved as a draft flagged for review.
func (s *Service) Propose() http.HandlerFunc {
	return s.proposers(func(w http.ResponseWriter, r *http.Request) {
		var in articleInput
		if !readJSON(w, r, &in) {
			return
		}
		review := true
		// conversation, the chat the proposal comes from, is kept with the article.
		in.ID, in.Status, in.Review = "", kb.StatusDraft, &review
		if in.Category == "" {
			in.Category = kb.CategoryPresale
		}
		e, err := s.create(r.Context(), in, account.UserFrom(r).Name, kb.ActionCreate)
		storeErrors.Reply(w, r, http.StatusCreated, view(e), err)
	})
}

// Unanswered handles GET /api/unanswered: the questions the bot could not answer,
// grouped by similarity, newest group first.
func (s *Service) Unanswered() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		limit := 2000
		if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
			limit = min(n, kb.MaxUnanswered)
		}
		items, err := s.store.Unanswered(r.Context(), limit)
		if err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		groups := groupUnanswered(items, s.index.Tokens)
		if groups == nil {
			groups = []UnansweredGroup{}
		}
		for i, g := range groups {
			if a, err := s.index.Article(g.Article); err == nil {
				groups[i].ArticleTitle = a.Title
			}
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"groups": groups, "total": len(items)})
	})
}

// DismissUnanswered handles POST /api/unanswered/dismiss {ids}.
func (s *Service) DismissUnanswered() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			IDs []string `json:"ids"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if err := s.store.DismissUnanswered(r.Context(), in.IDs); err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, map[string]int{"dismissed": len(in.IDs)})
	})
}

// AttachUnanswered handles POST /api/unanswered/attach {ids, article, version,
// question}: the question becomes an alternative question of the article (a new
// version), and the group is dismissed.
func (s *Service) AttachUnanswered() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			IDs      []string `json:"ids"`
			Article  string   `json:"article"`
			Version  int      `json:"version"`
			Question string   `json:"question"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		q := strings.TrimSpace(in.Question)
		if q == "" || in.Version <= 0 {
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "请给出问题和文章的当前版本 (question and version are required)")
			return
		}
		e, err := s.store.Get(r.Context(), in.Article)
		if err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		if !slices.Contains(e.Questions, q) {
			e.Questions = append(e.Questions, q)
		}
		// The question is a shopper's own words: it must pass the same checks as an
		// editor's, or a "<script>" typed into the widget would become article content.
		if err := checkArticle(e.Article); err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		e, err = s.store.Update(r.Context(), e, in.Version, account.UserFrom(r).Name, kb.ActionUpdate, 0)
		if err != nil {
			s.writeSaveError(w, r, in.Article, err)
			return
		}
		s.dismiss(r, in.IDs)
		web.WriteJSON(w, http.StatusOK, view(e))
	})
}

// Import handles POST /api/articles/import?name=F[&dry_run=1][&status=S]: a zip of
// Markdown articles or a JSON Lines file (name F, or the Content-Type, tells which).
// It reports what would change (dry run) or changes it: new ids are created, changed
// articles updated; nothing is deleted. status sets the status of what it saves
// (default: published for new articles, unchanged for existing ones).
func (s *Service) Import() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		name := q.Get("name")
		if name == "" {
			switch ct := r.Header.Get("Content-Type"); {
			case strings.Contains(ct, "zip"):
				name = "import.zip"
			default:
				name = "import.jsonl"
			}
		}
		status := q.Get("status")
		if status != "" && status != kb.StatusDraft && status != kb.StatusPublished {
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "status 须为 draft 或 published")
			return
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImport))
		if err != nil {
			web.WriteError(w, http.StatusRequestEntityTooLarge, web.CodeTooLarge, "导入文件超过 20 MB (the file is larger than 20 MB)")
			return
		}
		arts, problems, err := ReadImport(name, data)
		if err != nil {
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "无法读取导入文件: "+err.Error())
			return
		}
		dry := q.Get("dry_run") == "1"
		plan, n, err := Import(r.Context(), s.store, arts, status, account.UserFrom(r).Name, dry)
		out := map[string]any{"dry_run": dry, "plan": plan, "problems": problems, "applied": n}
		if err != nil {
			s.log.Warn().Err(err).Int("applied", n).Msg("import stopped")
			storeErrors.Write(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, out)
	})
}

// Import plans the import of arts into store and, unless dryRun, carries it out: new
// ids are created (status, or published when empty), changed articles updated (status,
// or their own when empty); nothing is deleted. It returns the plan and how many
// articles it saved; on an error, those saved before it stay. An article that fails
// kb.Article.Validate or CheckContent stops it before anything is saved.
func Import(ctx context.Context, store kb.Store, arts []kb.Article, status, by string, dryRun bool) (ImportPlan, int, error) {
	// ReadImport has dropped what fails these checks; an article from elsewhere stops
	// the import before anything is saved.
	for _, a := range arts {
		if err := checkArticle(a); err != nil {
			return ImportPlan{}, 0, fmt.Errorf("importing %q: %w", a.ID, err)
		}
	}
	current, err := store.List(ctx)
	if err != nil {
		return ImportPlan{}, 0, err
	}
	plan := PlanImport(current, arts)
	if dryRun {
		return plan, 0, nil
	}
	byID := make(map[string]kb.Entry, len(current))
	for _, e := range current {
		byID[e.ID] = e
	}
	create, update := make(map[string]bool), make(map[string]bool)
	for _, id := range plan.Create {
		create[id] = true
	}
	for _, c := range plan.Update {
		update[c.ID] = true
	}
	n := 0
	for _, a := range arts {
		switch {
		case create[a.ID]:
			st := status
			if st == "" {
				st = kb.StatusPublished
			}
			if _, err := store.Create(ctx, kb.Entry{Article: a, Status: st}, by, kb.ActionImport); err != nil {
				return plan, n, fmt.Errorf("importing %q: %w", a.ID, err)
			}
			delete(create, a.ID)
		case update[a.ID]:
			cur := byID[a.ID]
			e := kb.Entry{Article: a, Status: cur.Status, Review: cur.Review, Conversation: cur.Conversation}
			if status != "" {
				e.Status = status
			}
			if _, err := store.Update(ctx, e, cur.Version, by, kb.ActionImport, 0); err != nil {
				return plan, n, fmt.Errorf("importing %q: %w", a.ID, err)
			}
			delete(update, a.ID)
		default:
			continue
		}
		n++
	}
	return plan, n, nil
}

// Export handles GET /api/articles/export?format=zip|jsonl[&status=S]: the articles in
// the knowledge/ Markdown format (zip) or as JSON Lines.
func (s *Service) Export() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		entries, err := s.store.List(r.Context())
		if err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		status := r.URL.Query().Get("status")
		var arts []kb.Article
		for _, e := range entries {
			if status == "" || e.Status == status {
				arts = append(arts, e.Article)
			}
		}
		var buf bytes.Buffer
		name := "kefu-articles-" + time.Now().UTC().Format("20060102")
		switch r.URL.Query().Get("format") {
		case "", "zip":
			err = ExportZip(&buf, arts)
			name += ".zip"
			w.Header().Set("Content-Type", "application/zip")
		case "jsonl":
			err = ExportJSONL(&buf, arts)
			name += ".jsonl"
			w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		default:
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "format 须为 zip 或 jsonl")
			return
		}
		if err != nil {
			storeErrors.Write(w, r, errors.Join(errors.New("exporting"), err))
			return
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Write(buf.Bytes())
	})
}
