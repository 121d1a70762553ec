package knowledge

import (
	"net/http"

	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/kb"
)

// isProposal reports whether e is a proposal an editor has not reviewed yet: a draft
// flagged for review.
func isProposal(e kb.Entry) bool { return e.Review && e.Status == kb.StatusDraft }

// observe keeps the set of proposals waiting for review with what the follower read:
// every article after a build (all), or the changed and deleted ones.
func (s *Service) observe(all bool, entries []kb.Entry, deleted []string) {
	s.reviewMu.Lock()
	defer s.reviewMu.Unlock()
	if all {
		s.review = make(map[string]bool)
	}
	for _, e := range entries {
		if isProposal(e) {
			s.review[e.ID] = true
		} else {
			delete(s.review, e.ID)
		}
	}
	for _, id := range deleted {
		delete(s.review, id)
	}
}

// Proposals returns how many proposals wait for review. The follower keeps the count
// with the index, so it costs no read of the store.
func (s *Service) Proposals() int {
	s.reviewMu.Lock()
	defer s.reviewMu.Unlock()
	return len(s.review)
}

// editorStatus is the answer of GET /api/editor/status.
type editorStatus struct {
	// Ready is false until the index is built, and while it may lag behind the store.
	Ready bool `json:"ready"`
	// Stale is true while the change feed cannot be read.
	Stale bool `json:"stale"`
	// Articles are the published articles in this node's index.
	Articles int `json:"articles"`
	// Proposals wait for an editor's review.
	Proposals int `json:"proposals"`
}

// Status handles GET /api/editor/status: the state of this node's index and the
// number of proposals waiting for review. The editor polls it to warn when the bot may
// answer from a stale index, and for the proposals badge.
func (s *Service) Status() http.HandlerFunc {
	return s.editors(func(w http.ResponseWriter, r *http.Request) {
		web.WriteJSON(w, http.StatusOK, editorStatus{
			Ready: s.follower.Ready(), Stale: s.follower.Stale(), Articles: s.index.Len(), Proposals: s.Proposals(),
		})
	})
}
