package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports enforces the dependency rules of the architecture: project packages import
// only the packages their row allows ("internal/..." is any package under internal/), a
// package under internal/ imports no role package, bleve is imported by kb alone, and the
// websocket library only by the package that serves shopper sockets.
func TestImports(t *testing.T) {
	const mod = "github.com/kefu-im/kefu/"
	allowed := map[string][]string{
		"kb":                       {},
		"bot":                      {"kb"},
		"handoff":                  {"internal/account", "handoff/..."},
		"handoff/console":          {"handoff", "internal/..."},
		"handoff/redistest":        {},
		"widget":                   {"bot", "handoff"},
		"knowledge":                {"kb", "bot", "internal/web", "internal/account"},
		"internal/web":             {},
		"internal/account":         {"internal/web"},
		"internal/boltdb":          {},
		"internal/boltdb/bolttest": {"internal/boltdb"},
	}
	only := map[string][]string{ // third-party import → the packages that may use it
		"github.com/blevesearch/bleve":       {"kb"},
		"github.com/gorilla/websocket":       {"widget"},
		"github.com/yuin/goldmark":           {"knowledge"},
		"github.com/microcosm-cc/bluemonday": {"knowledge"},
		"github.com/redis/go-redis":          {"handoff", "kb", "internal/account", "cmd/kefu"},
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "github.com/kefu-im/kefu/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		short := strings.TrimPrefix(pkg, mod)
		for _, imp := range strings.Fields(imports) {
			if dep, ok := strings.CutPrefix(imp, mod); ok {
				rule, known := allowed[short]
				if known && !contains(rule, dep) {
					t.Errorf("%s imports %s; allowed: %v", short, dep, rule)
				}
				if strings.HasPrefix(short, "internal/") && !strings.HasPrefix(dep, "internal/") {
					t.Errorf("%s imports %s; internal/ imports no role package", short, dep)
				}
				continue
			}
			for prefix, users := range only {
				if strings.HasPrefix(imp, prefix) && !contains(users, short) {
					t.Errorf("%s imports %s; only %v may", short, imp, users)
				}
			}
		}
	}
}

// contains reports whether list holds s, or a "dir/..." entry with s below dir.
func contains(list []string, s string) bool {
	for _, v := range list {
		if dir, ok := strings.CutSuffix(v, "/..."); ok && strings.HasPrefix(s, dir+"/") || v == s {
			return true
		}
	}
	return false
}

// TestPackageDocs: every package says what it is for in a doc comment.
func TestPackageDocs(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{.Doc}}`, "github.com/kefu-im/kefu/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if pkg, doc, _ := strings.Cut(line, ":"); strings.TrimSpace(doc) == "" {
			t.Errorf("%s has no package doc comment", pkg)
		}
	}
}
