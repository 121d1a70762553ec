//go:build legacyconsole

package handoff

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// ctTestTokens issues an API token, uses it where a session token goes, within its
// role, and revokes it.
func ctTestTokens(t *testing.T, f *ctConsole) {
	admin := f.token["admin"]
	status, body := f.call(t, "POST", "/api/tokens", admin, map[string]string{"name": "shop-sync", "role": RoleEditor})
	ctWant(t, "issuing a token", status, body, http.StatusCreated)
	var issued struct {
		ID, Name, Role, Token string
		CreatedBy             string `json:"created_by"`
	}
	ctDecode(t, body, &issued)
	if issued.Name != "shop-sync" || issued.Role != RoleEditor || issued.CreatedBy != "admin" ||
		!strings.HasPrefix(issued.Token, "kt_"+issued.ID+"_") || len(issued.Token) < 50 {
		t.Fatalf("issued %s", body)
	}
	if bytes.Contains(body, []byte("hash")) {
		t.Errorf("the issued token shows its hash: %s", body)
	}
	// The store keeps the SHA-256 of the token, never the token.
	stored, err := f.desk.store.Token(t.Context(), issued.ID)
	if err != nil || stored.Hash != hashToken(issued.Token) || strings.Contains(stored.Hash, issued.Token[20:]) {
		t.Fatalf("stored token = %+v, %v", stored, err)
	}

	// The token signs requests in as "token:shop-sync", an editor.
	status, body = f.call(t, "GET", "/api/me", issued.Token, nil)
	ctWant(t, "/api/me with the token", status, body, http.StatusOK)
	var me struct{ Name, Role string }
	ctDecode(t, body, &me)
	if me.Name != "token:shop-sync" || me.Role != RoleEditor {
		t.Errorf("/api/me with the token = %s", body)
	}
	// Its role limits it: an editor neither manages users and tokens nor claims chats.
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/tokens"}, {"GET", "/api/users"}, {"GET", "/api/presence"}, {"GET", "/api/me/load"},
	} {
		status, body = f.call(t, r.method, r.path, issued.Token, nil)
		ctWantError(t, r.method+" "+r.path+" with an editor token", status, body, http.StatusForbidden, "forbidden")
	}
	status, body = f.call(t, "POST", "/api/tokens", issued.Token, map[string]string{"name": "more"})
	ctWantError(t, "a token issuing a token", status, body, http.StatusForbidden, "forbidden")
	status, body = f.call(t, "POST", "/api/tokens", f.token["alice"], map[string]string{"name": "mine"})
	ctWantError(t, "an agent issuing a token", status, body, http.StatusForbidden, "forbidden")

	// Bad requests say what is wrong and issue nothing.
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"an admin token", map[string]string{"name": "root", "role": RoleAdmin}, http.StatusBadRequest, "bad_request"},
		{"an agent token", map[string]string{"name": "bot", "role": RoleAgent}, http.StatusBadRequest, "bad_request"},
		{"an empty name", map[string]string{"name": ""}, http.StatusBadRequest, "bad_request"},
		{"a name with a colon", map[string]string{"name": "a:b"}, http.StatusBadRequest, "bad_request"},
		{"a name in use", map[string]string{"name": "shop-sync"}, http.StatusConflict, "token_exists"},
		{"bad JSON", `{"name":`, http.StatusBadRequest, "bad_json"},
	} {
		status, body = f.call(t, "POST", "/api/tokens", admin, tc.body)
		ctWantError(t, tc.name, status, body, tc.status, tc.code)
	}
	// The role defaults to editor.
	status, body = f.call(t, "POST", "/api/tokens", admin, map[string]string{"name": "erp"})
	ctWant(t, "issuing a token without a role", status, body, http.StatusCreated)
	var erp struct{ ID, Role, Token string }
	ctDecode(t, body, &erp)
	if erp.Role != RoleEditor {
		t.Errorf("a token without a role has role %q, want editor", erp.Role)
	}

	status, body = f.call(t, "GET", "/api/tokens", admin, nil)
	ctWant(t, "listing tokens", status, body, http.StatusOK)
	var list struct {
		Tokens []struct{ ID, Name string }
	}
	ctDecode(t, body, &list)
	if len(list.Tokens) != 2 || list.Tokens[0].Name != "shop-sync" || list.Tokens[1].Name != "erp" {
		t.Errorf("tokens = %s", body)
	}
	if bytes.Contains(body, []byte(issued.Token)) || bytes.Contains(body, []byte("hash")) || bytes.Contains(body, []byte("kt_")) {
		t.Errorf("the token list shows secrets: %s", body)
	}

	// Forged tokens: a known id with another secret, a malformed one, an unknown id.
	for _, forged := range []string{
		issued.Token[:len(issued.Token)-4] + "AAAA",
		"kt_" + issued.ID,
		"kt_",
		"kt_0123456789abcdef_" + issued.Token[20:],
	} {
		status, body = f.call(t, "GET", "/api/me", forged, nil)
		ctWantError(t, "the forged token "+forged, status, body, http.StatusUnauthorized, "unauthorized")
	}

	// Revoked, it signs in no more; the other token still does.
	status, body = f.call(t, "DELETE", "/api/tokens/"+issued.ID, admin, nil)
	ctWant(t, "revoking", status, body, http.StatusNoContent)
	status, body = f.call(t, "GET", "/api/me", issued.Token, nil)
	ctWantError(t, "a revoked token", status, body, http.StatusUnauthorized, "unauthorized")
	status, body = f.call(t, "DELETE", "/api/tokens/"+issued.ID, admin, nil)
	ctWantError(t, "revoking twice", status, body, http.StatusNotFound, "not_found")
	status, body = f.call(t, "GET", "/api/me", erp.Token, nil)
	ctWant(t, "/api/me with the other token", status, body, http.StatusOK)
	status, body = f.call(t, "DELETE", "/api/tokens/"+erp.ID, admin, nil)
	ctWant(t, "revoking the other", status, body, http.StatusNoContent)
}
