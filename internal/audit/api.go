package audit

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/kefu-im/kefu/internal/web"
)

// Handler returns GET /api/audit?limit=&before= behind admins (the middleware that
// admits admins alone): {"entries": [Entry], "next": ID or ""}, newest first; next is
// the before of the following page, "" at the end.
func (l *Log) Handler(admins func(http.HandlerFunc) http.HandlerFunc) http.HandlerFunc {
	return admins(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := 50
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > MaxLimit {
				web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "limit 须为 1-500")
				return
			}
			limit = n
		}
		es, err := l.List(r.Context(), limit, q.Get("before"))
		if errors.Is(err, ErrBadCursor) {
			web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "before 须为上一页最后一条的 id")
			return
		}
		next := ""
		if len(es) == limit {
			next = es[len(es)-1].ID
		}
		web.Reply(w, r, http.StatusOK, map[string]any{"entries": es, "next": next}, err)
	})
}
