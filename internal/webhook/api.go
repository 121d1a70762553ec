package webhook

import (
	"net/http"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/web"
)

// apiErrors are the API's answers to the service's errors.
var apiErrors = web.ErrorAnswers{
	{Err: ErrBadEndpoint, Status: http.StatusBadRequest, Code: web.CodeBadRequest},
	{Err: ErrNotFound, Status: http.StatusNotFound, Code: web.CodeNotFound, Message: "没有这个 Webhook"},
}

// EndpointView is an endpoint as the API shows it: the secret only by its first
// characters.
type EndpointView struct {
	ID         string   `json:"id"`
	URL        string   `json:"url"`
	Events     []string `json:"events"`
	SecretHint string   `json:"secret_hint"`
	CreatedBy  string   `json:"created_by,omitempty"`
	CreatedAt  string   `json:"created_at"`
}

func viewOf(e Endpoint) EndpointView {
	hint := e.Secret
	if r := []rune(hint); len(r) > 4 {
		hint = string(r[:4]) + "…"
	}
	return EndpointView{ID: e.ID, URL: e.URL, Events: e.Events, SecretHint: hint, CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt.Format("2006-01-02T15:04:05Z07:00")}
}

// Routes adds the admins' API to mux: POST and GET /api/webhooks, DELETE
// /api/webhooks/{id}, POST /api/webhooks/{id}/test and GET
// /api/webhooks/{id}/deliveries, each through admins (account.Service.Require of the
// admin role).
func (s *Service) Routes(mux *http.ServeMux, admins func(http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("POST /api/webhooks", admins(s.handleAdd))
	mux.HandleFunc("GET /api/webhooks", admins(s.handleList))
	mux.HandleFunc("DELETE /api/webhooks/{id}", admins(s.handleDelete))
	mux.HandleFunc("POST /api/webhooks/{id}/test", admins(s.handleTest))
	mux.HandleFunc("GET /api/webhooks/{id}/deliveries", admins(s.handleDeliveries))
}

// handleAdd is POST /api/webhooks {url, events, secret} → 201 {id, secret}: the secret
// is shown this once (a generated one when none was given).
func (s *Service) handleAdd(w http.ResponseWriter, r *http.Request) {
	var req struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
		Secret string   `json:"secret"`
	}
	if !(web.JSONReader{Strict: true}).Read(w, r, &req) {
		return
	}
	e, err := s.Add(r.Context(), req.URL, req.Events, req.Secret, account.UserFrom(r).Name)
	if err == nil {
		s.log.Info().Str("endpoint", e.ID).Strs("events", e.Events).Str("by", e.CreatedBy).Msg("webhook added")
	}
	apiErrors.Reply(w, r, http.StatusCreated, map[string]string{"id": e.ID, "secret": e.Secret}, err)
}

// handleList is GET /api/webhooks → {webhooks: [EndpointView], events: [...]}.
func (s *Service) handleList(w http.ResponseWriter, r *http.Request) {
	all, err := s.Endpoints(r.Context())
	views := make([]EndpointView, 0, len(all))
	for _, e := range all {
		views = append(views, viewOf(e))
	}
	apiErrors.Reply(w, r, http.StatusOK, map[string]any{"webhooks": views, "events": Events}, err)
}

// handleDelete is DELETE /api/webhooks/{id} → 204.
func (s *Service) handleDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.Delete(r.Context(), r.PathValue("id")); err != nil {
		apiErrors.Write(w, r, err)
		return
	}
	s.log.Info().Str("endpoint", r.PathValue("id")).Str("by", account.UserFrom(r).Name).Msg("webhook deleted")
	w.WriteHeader(http.StatusNoContent)
}

// handleTest is POST /api/webhooks/{id}/test → 202 {delivery}: a ping is queued.
func (s *Service) handleTest(w http.ResponseWriter, r *http.Request) {
	id, err := s.Test(r.Context(), r.PathValue("id"), account.UserFrom(r).Name)
	apiErrors.Reply(w, r, http.StatusAccepted, map[string]string{"delivery": id}, err)
}

// handleDeliveries is GET /api/webhooks/{id}/deliveries → {deliveries: [Attempt]},
// newest first.
func (s *Service) handleDeliveries(w http.ResponseWriter, r *http.Request) {
	log, err := s.Attempts(r.Context(), r.PathValue("id"))
	if log == nil {
		log = []Attempt{}
	}
	apiErrors.Reply(w, r, http.StatusOK, map[string]any{"deliveries": log}, err)
}
