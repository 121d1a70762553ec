package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/kb"
	"github.com/rs/zerolog"
)

// A shopper's data, for admins (docs/domain.md rule 29): GET /api/shoppers/{id}/export
// and DELETE /api/shoppers/{id}. The desk finds and deletes the conversations, their
// photos and the tickets' personal fields (handoff.Desk.ExportShopper, EraseShopper);
// here the editors' unanswered inbox loses the questions the shopper asked too.

// shopperIDPattern is what a shopper id may look like: a shop's buyer id, a visitor id
// or a conversation id.
var shopperIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{1,128}$`)

// shopperRef is how the audit log names a shopper: a digest, not the id, so that the log
// keeps nothing that identifies someone whose data was erased.
func shopperRef(id string) string {
	h := sha256.Sum256([]byte(id))
	return "shopper sha256:" + hex.EncodeToString(h[:6])
}

// exportShopper handles GET /api/shoppers/{id}/export (admin): handoff.ShopperData as
// JSON, a download; 404 not_found when nothing is kept.
func (a *app) exportShopper() http.HandlerFunc {
	return a.accounts.Require(account.RoleAdmin)(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !shopperIDPattern.MatchString(id) {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "顾客 id 无效")
			return
		}
		data, err := a.desk.ExportShopper(r.Context(), id)
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		if len(data.Conversations) == 0 {
			web.WriteError(w, http.StatusNotFound, web.CodeNotFound, "没有该顾客的数据")
			return
		}
		a.audit.Add(r, account.UserFrom(r).Name, audit.ActionShopperExport, shopperRef(id), fmt.Sprintf("%d conversations", len(data.Conversations)))
		w.Header().Set("Content-Disposition", `attachment; filename="kefu-shopper-export.json"`)
		web.WriteJSON(w, http.StatusOK, data)
	})
}

// eraseShopper handles DELETE /api/shoppers/{id} (admin): {conversations, tickets,
// unanswered}, how many of each were erased (0s when nothing was kept).
func (a *app) eraseShopper() http.HandlerFunc {
	return a.accounts.Require(account.RoleAdmin)(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !shopperIDPattern.MatchString(id) {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "顾客 id 无效")
			return
		}
		ctx := context.WithoutCancel(r.Context())
		erased, err := a.desk.EraseShopper(ctx, id)
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		n, err := forgetQuestions(ctx, a.storage.articles, erased.Texts)
		if err != nil {
			web.Fault(w, r, err)
			return
		}
		zerolog.Ctx(r.Context()).Info().Str("shopper", shopperRef(id)).Int("conversations", erased.Conversations).
			Int("tickets", erased.Tickets).Int("unanswered", n).Str("by", account.UserFrom(r).Name).Msg("shopper erased")
		a.audit.Add(r, account.UserFrom(r).Name, audit.ActionShopperErased, shopperRef(id),
			fmt.Sprintf("%d conversations, %d tickets redacted, %d unanswered questions", erased.Conversations, erased.Tickets, n))
		web.WriteJSON(w, http.StatusOK, map[string]int{"conversations": erased.Conversations, "tickets": erased.Tickets, "unanswered": n})
	})
}

// forgetQuestions removes from the editors' unanswered inbox the questions whose text
// is one of texts, and returns how many it removed.
func forgetQuestions(ctx context.Context, store kb.Store, texts []string) (int, error) {
	if len(texts) == 0 {
		return 0, nil
	}
	norm := make([]string, len(texts))
	for i, t := range texts {
		norm[i] = strings.TrimSpace(t)
	}
	qs, err := store.Unanswered(ctx, kb.MaxUnanswered)
	if err != nil {
		return 0, fmt.Errorf("reading the unanswered questions: %w", err)
	}
	var ids []string
	for _, q := range qs {
		if slices.Contains(norm, strings.TrimSpace(q.Text)) {
			ids = append(ids, q.ID)
		}
	}
	if err := store.DismissUnanswered(ctx, ids); err != nil {
		return 0, fmt.Errorf("removing the shopper's unanswered questions: %w", err)
	}
	return len(ids), nil
}
