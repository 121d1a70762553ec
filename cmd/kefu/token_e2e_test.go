package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAPITokenSync issues an API token from the command line and syncs an article
// with it as a shop's system would (docs/api.md): create, update with the version read,
// and the bot answers with it; the admin API lists the token without its secret, and
// once revoked it signs nothing in.
func TestAPITokenSync(t *testing.T) {
	_, env := redisEnv(t)
	node := startKefu(t, "", env...)
	kefu := func(args ...string) (string, error) {
		cmd := exec.Command(kefuBin, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := kefu("token", "add", "--role", "editor", "shop-sync")
	if err != nil {
		t.Fatalf("kefu token add: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^(kt_([0-9a-f]{16})_\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("kefu token add printed no token:\n%s", out)
	}
	token, id := m[1], m[2]
	if out, err := kefu("token", "add", "--role", "admin", "root"); err == nil || !strings.Contains(out, "editor") {
		t.Fatalf("kefu token add --role admin: %v\n%s", err, out)
	}
	sync := &agent{t: t, p: node, token: token}

	// The sync: read the article's version; create it when missing, else update it.
	var cur struct{ Version int }
	if code := sync.do("GET", "/api/articles/trade-in", nil, &cur); code != 404 {
		t.Fatalf("GET a missing article: %d", code)
	}
	var saved struct {
		Version   int
		UpdatedBy string `json:"updated_by"`
	}
	if code := sync.do("POST", "/api/articles", tradeInArticle, &saved); code != 201 || saved.Version != 1 || saved.UpdatedBy != "token:shop-sync" {
		t.Fatalf("create with the token: %d %+v", code, saved)
	}
	waitAnswers(t, sync, "旧手机可以抵钱吗？", "trade-in", true, 5*time.Second)
	if code := sync.do("GET", "/api/articles/trade-in", nil, &cur); code != 200 || cur.Version != 1 {
		t.Fatalf("GET: %d %+v", code, cur)
	}
	edited := map[string]any{}
	for k, v := range tradeInArticle {
		edited[k] = v
	}
	edited["version"], edited["answer"] = cur.Version, "支持的亲，旧机寄回评估后抵扣货款，本月另加 100 元。"
	if code := sync.do("PUT", "/api/articles/trade-in", edited, &saved); code != 200 || saved.Version != 2 {
		t.Fatalf("update with the token: %d %+v", code, saved)
	}
	// An editor's token is no admin's.
	if code := sync.do("POST", "/api/users", map[string]string{"username": "mallory", "password": "mallory-pass", "role": "admin", "group": "presale"}, nil); code != 403 {
		t.Fatalf("adding a user with an editor token: %d, want 403", code)
	}

	admin := login(t, node, "admin", node.adminPassword())
	var list struct {
		Tokens []struct{ ID, Name, Role string }
	}
	if code := admin.do("GET", "/api/tokens", nil, &list); code != 200 || len(list.Tokens) != 1 || list.Tokens[0].ID != id || list.Tokens[0].Role != "editor" {
		t.Fatalf("GET /api/tokens: %d %+v", code, list)
	}
	if out, err := kefu("token", "list"); err != nil || !strings.Contains(out, id+"\tshop-sync\teditor") || strings.Contains(out, "kt_") {
		t.Fatalf("kefu token list: %v\n%s", err, out)
	}
	if out, err := kefu("token", "revoke", id); err != nil {
		t.Fatalf("kefu token revoke: %v\n%s", err, out)
	}
	if code := sync.do("GET", "/api/articles/trade-in", nil, nil); code != 401 {
		t.Fatalf("a revoked token: %d, want 401", code)
	}
}
