package knowledge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/kb"
)

// articleInput is the body of POST /api/articles and PUT /api/articles/{id}.
type articleInput struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Category   string   `json:"category"`
	Questions  []string `json:"questions"`
	Answer     string   `json:"answer"`
	Tags       []string `json:"tags"`
	AfterSales bool     `json:"after_sales"`
	Lang       string   `json:"lang"`
	Status     string   `json:"status"`
	// Review marks a proposal waiting for an editor; on a PUT, absent keeps the flag
	// of the version edited. Publishing clears it.
	Review *bool `json:"review"`
	// Conversation is the chat a proposal comes from; it is set when the article is
	// created, and later saves keep it.
	Conversation string `json:"conversation"`
	// Version is the version a PUT edits.
	Version int `json:"version"`
	// Unanswered are unanswered questions this save answers: they are dismissed.
	Unanswered []string `json:"unanswered"`
}

// entry checks the input and makes it an entry with the given id.
func (in articleInput) entry(id string) (kb.Entry, error) {
	e := kb.Entry{
		Article: kb.Article{
			ID: id, Title: strings.TrimSpace(in.Title), Category: in.Category,
			Questions: cleanList(in.Questions), Answer: strings.TrimSpace(in.Answer),
			Tags: cleanList(in.Tags), AfterSales: in.AfterSales, Lang: in.Lang,
		},
		Status: in.Status, Review: in.Review != nil && *in.Review,
		Conversation: strings.TrimSpace(in.Conversation),
	}
	if e.Conversation != "" && !conversationPattern.MatchString(e.Conversation) {
		return e, fmt.Errorf("%w: conversation %q is not a conversation id", kb.ErrInvalid, in.Conversation)
	}
	if e.Status == "" {
		e.Status = kb.StatusDraft
	}
	if e.Status != kb.StatusDraft && e.Status != kb.StatusPublished {
		return e, fmt.Errorf("%w: status %q must be draft or published", kb.ErrInvalid, in.Status)
	}
	if e.Status == kb.StatusPublished {
		e.Review = false
	}
	return e, checkArticle(e.Article)
}

// checkArticle is what every write of an article's content must pass, whatever the path
// (the editor, an agent's proposal, an attached question, a restore, an import): the
// article is valid, and no field holds HTML or a link that could run script.
func checkArticle(a kb.Article) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return CheckContent(a)
}

// conversationPattern is what a conversation id may look like (handoff makes them
// "c_" and 22 characters of base64url).
var conversationPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// cleanList trims the items, drops empty ones and repeats, keeping the order.
func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// articleView is an entry as the API returns it, with its answer rendered.
type articleView struct {
	kb.Entry
	HTML string `json:"html"`
}

func view(e kb.Entry) articleView { return articleView{Entry: e, HTML: RenderMarkdown(e.Answer)} }

// summary is an entry in a list: no answer body.
type summary struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Category   string    `json:"category"`
	Status     string    `json:"status"`
	Review     bool      `json:"review,omitempty"`
	Tags       []string  `json:"tags"`
	AfterSales bool      `json:"after_sales"`
	Questions  int       `json:"questions"`
	Version    int       `json:"version"`
	UpdatedBy  string    `json:"updated_by"`
	UpdatedAt  time.Time `json:"updated_at"`
	Score      float64   `json:"score,omitempty"`
}

func summarize(e kb.Entry) summary {
	tags := e.Tags
	if tags == nil {
		tags = []string{}
	}
	return summary{
		ID: e.ID, Title: e.Title, Category: e.Category, Status: e.Status, Review: e.Review, Tags: tags,
		AfterSales: e.AfterSales, Questions: len(e.Questions), Version: e.Version,
		UpdatedBy: e.UpdatedBy, UpdatedAt: e.UpdatedAt,
	}
}

// List handles GET /api/articles: every article, filtered by category, status, tag and
// review=1 (proposals), and with q searched as the bot searches (published articles,
// best first) and by substring in drafts.
func (s *Service) List() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		entries, err := s.store.List(r.Context())
		if err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		f := r.URL.Query()
		keep := func(e kb.Entry) bool {
			return (f.Get("category") == "" || e.Category == f.Get("category")) &&
				(f.Get("status") == "" || e.Status == f.Get("status")) &&
				(f.Get("tag") == "" || slices.Contains(e.Tags, f.Get("tag"))) &&
				(f.Get("review") == "" || e.Review == (f.Get("review") == "1"))
		}
		out := []summary{}
		if q := strings.TrimSpace(f.Get("q")); q != "" {
			byID := make(map[string]kb.Entry, len(entries))
			for _, e := range entries {
				byID[e.ID] = e
			}
			hits, err := s.index.Search(r.Context(), q, 50)
			if err != nil {
				storeErrors.Write(w, r, err)
				return
			}
			seen := make(map[string]bool)
			for _, h := range hits {
				if e, ok := byID[h.Article.ID]; ok && keep(e) {
					sm := summarize(e)
					sm.Score = h.Prob
					out = append(out, sm)
					seen[e.ID] = true
				}
			}
			lq := strings.ToLower(q)
			for _, e := range entries {
				if !seen[e.ID] && keep(e) && containsFold(e, lq) {
					out = append(out, summarize(e))
				}
			}
		} else {
			for _, e := range entries {
				if keep(e) {
					out = append(out, summarize(e))
				}
			}
			slices.SortStableFunc(out, func(a, b summary) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"articles": out, "categories": Categories})
	})
}

// Categories are the article categories, in the editor's order.
var Categories = []string{kb.CategoryPresale, kb.CategoryInsale, kb.CategoryAftersale, kb.CategoryPolicy}

func containsFold(e kb.Entry, lq string) bool {
	if strings.Contains(strings.ToLower(e.ID), lq) || strings.Contains(strings.ToLower(e.Title), lq) ||
		strings.Contains(strings.ToLower(e.Answer), lq) {
		return true
	}
	for _, q := range e.Questions {
		if strings.Contains(strings.ToLower(q), lq) {
			return true
		}
	}
	return false
}

// Get handles GET /api/articles/{id}.
func (s *Service) Get() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		e, err := s.store.Get(r.Context(), r.PathValue("id"))
		storeErrors.Reply(w, r, http.StatusOK, view(e), err)
	})
}

// Create handles POST /api/articles. Without an id, one is made from the title.
func (s *Service) Create() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		var in articleInput
		if !readJSON(w, r, &in) {
			return
		}
		e, err := s.create(r.Context(), in, account.UserFrom(r).Name, kb.ActionCreate)
		if err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		s.dismiss(r, in.Unanswered)
		web.WriteJSON(w, http.StatusCreated, view(e))
	})
}

// create saves a new article from in; an id made from the title is made unique.
func (s *Service) create(ctx context.Context, in articleInput, by, action string) (kb.Entry, error) {
	id, made := strings.TrimSpace(in.ID), false
	if id == "" {
		id, made = makeID(in.Title), true
	}
	e, err := in.entry(id)
	if err != nil {
		return e, err
	}
	for i := 2; ; i++ {
		saved, err := s.store.Create(ctx, e, by, action)
		if !made || !errors.Is(err, kb.ErrExists) || i > 20 {
			return saved, err
		}
		e.ID = id + "-" + strconv.Itoa(i)
	}
}

// makeID makes an article id from a title: its Latin words, or a dated random id for a
// title without any.
func makeID(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	if b.Len() >= 3 {
		return b.String()
	}
	buf := make([]byte, 3)
	rand.Read(buf)
	return "kb-" + time.Now().UTC().Format("20060102") + "-" + hex.EncodeToString(buf)
}

// Update handles PUT /api/articles/{id}; the body names the version it edits.
func (s *Service) Update() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		var in articleInput
		if !readJSON(w, r, &in) {
			return
		}
		if in.Version <= 0 {
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "请注明所编辑的版本 version (the body must name the version it edits)")
			return
		}
		id := r.PathValue("id")
		e, err := in.entry(id)
		if err == nil {
			// What the form does not carry comes from the version edited: where a
			// proposal came from, and, unless the body says, whether it waits for review.
			var cur kb.Entry
			if cur, err = s.store.Get(r.Context(), id); err == nil {
				e.Conversation = cur.Conversation
				if in.Review == nil && e.Status == kb.StatusDraft {
					e.Review = cur.Review
				}
			}
		}
		if err == nil {
			e, err = s.store.Update(r.Context(), e, in.Version, account.UserFrom(r).Name, kb.ActionUpdate, 0)
		}
		if err != nil {
			s.writeSaveError(w, r, id, err)
			return
		}
		s.dismiss(r, in.Unanswered)
		web.WriteJSON(w, http.StatusOK, view(e))
	})
}

// writeSaveError answers a failed save; a conflict carries the latest version so the
// editor can show what changed.
func (s *Service) writeSaveError(w http.ResponseWriter, r *http.Request, id string, err error) {
	if errors.Is(err, kb.ErrConflict) {
		if cur, gerr := s.store.Get(r.Context(), id); gerr == nil {
			web.WriteJSON(w, http.StatusConflict, map[string]any{
				"error":  web.Error{Code: web.CodeConflict, Message: "文章已被 " + cur.UpdatedBy + " 修改为第 " + strconv.Itoa(cur.Version) + " 版，请刷新后再保存 (the article changed since you opened it)"},
				"latest": view(cur),
			})
			return
		}
	}
	storeErrors.Write(w, r, err)
}

// Delete handles DELETE /api/articles/{id}?version=N.
func (s *Service) Delete() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		base, err := strconv.Atoi(r.URL.Query().Get("version"))
		if err != nil || base <= 0 {
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "请用 ?version=N 注明所删除的版本 (name the version you delete)")
			return
		}
		if err := s.store.Delete(r.Context(), r.PathValue("id"), base, account.UserFrom(r).Name); err != nil {
			s.writeSaveError(w, r, r.PathValue("id"), err)
			return
		}
		s.cfg.Audit.Add(r, account.UserFrom(r).Name, audit.ActionArticleDeleted, r.PathValue("id"), "version "+strconv.Itoa(base))
		w.WriteHeader(http.StatusNoContent)
	})
}

// versionView is one version in the history.
type versionView struct {
	Version      int       `json:"version"`
	Action       string    `json:"action"`
	Status       string    `json:"status"`
	By           string    `json:"by"`
	At           time.Time `json:"at"`
	RestoredFrom int       `json:"restored_from,omitempty"`
	Deleted      bool      `json:"deleted,omitempty"`
	Title        string    `json:"title"`
	// Fields are the fields this version changed from the one before it (none for the
	// first version and for a deletion).
	Fields []string `json:"fields"`
}

// Versions handles GET /api/articles/{id}/versions: the history, newest first.
func (s *Service) Versions() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		vs, err := s.store.Versions(r.Context(), r.PathValue("id"))
		if err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		out := make([]versionView, len(vs))
		for i, v := range vs {
			out[i] = versionView{
				Version: v.Version, Action: v.Action, Status: v.Status, By: v.UpdatedBy, At: v.UpdatedAt,
				RestoredFrom: v.RestoredFrom, Deleted: v.Deleted, Title: v.Title, Fields: []string{},
			}
			if i+1 < len(vs) && !v.Deleted { // vs is newest first
				out[i].Fields = changedEntryFields(vs[i+1].Entry, v.Entry)
			}
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"versions": out})
	})
}

// Version handles GET /api/articles/{id}/versions/{n}: the version whole, and its diff
// against the one before it (or against ?against=M).
func (s *Service) Version() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil {
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "版本号须为数字 (the version must be a number)")
			return
		}
		v, err := s.store.Version(r.Context(), id, n)
		if err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		against := n - 1
		if a := r.URL.Query().Get("against"); a != "" {
			if against, err = strconv.Atoi(a); err != nil {
				web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "against 须为版本号 (against must be a version number)")
				return
			}
		}
		var prev kb.Entry
		if against >= 1 {
			pv, err := s.store.Version(r.Context(), id, against)
			if err != nil {
				storeErrors.Write(w, r, err)
				return
			}
			prev = pv.Entry
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{
			"version": v, "html": RenderMarkdown(v.Answer), "against": against, "diff": Diff(prev, v.Entry),
		})
	})
}

// Restore handles POST /api/articles/{id}/restore {version, base}: the content of the
// given version becomes a new version. base is the latest version the editor saw; a
// deleted article is restored without one.
func (s *Service) Restore() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Version int `json:"version"`
			Base    int `json:"base"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		id, by := r.PathValue("id"), account.UserFrom(r).Name
		v, err := s.store.Version(r.Context(), id, in.Version)
		if err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		if v.Deleted {
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "不能恢复删除操作本身，请选择更早的版本 (choose a version before the deletion)")
			return
		}
		// A version saved under older content rules, or seeded, is checked as a new save.
		if err := checkArticle(v.Article); err != nil {
			storeErrors.Write(w, r, err)
			return
		}
		e := v.Entry
		_, err = s.store.Get(r.Context(), id)
		switch {
		case errors.Is(err, kb.ErrNotFound):
			e, err = s.store.Create(r.Context(), e, by, kb.ActionRestore)
		case err != nil:
		case in.Base <= 0:
			web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, "请注明当前版本 base (name the latest version you saw)")
			return
		default:
			e, err = s.store.Update(r.Context(), e, in.Base, by, kb.ActionRestore, in.Version)
		}
		if err != nil {
			s.writeSaveError(w, r, id, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, view(e))
	})
}

// dismiss removes answered unanswered questions; a failure is only logged, the save
// it follows has succeeded.
func (s *Service) dismiss(r *http.Request, ids []string) {
	if len(ids) == 0 {
		return
	}
	if err := s.store.DismissUnanswered(r.Context(), ids); err != nil {
		s.log.Warn().Err(err).Msg("dismissing answered questions")
	}
}
