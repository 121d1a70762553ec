package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImports enforces the dependency rules of docs/architecture.md, for tests too:
// project packages import only the packages their row allows ("dir/..." is any package
// below dir) and internal/; a package under internal/ imports no role package; bleve is
// imported by kb alone, the websocket library only by the package that serves shopper
// sockets, the storage libraries only by the engines, and the object store's client only
// by the file store.
func TestImports(t *testing.T) {
	const mod = "github.com/kefu-im/kefu/"
	allowed := map[string][]string{
		"kb":                 {},
		"kb/kbtest":          {"kb"},
		"bot":                {"kb", "kb/kbtest"},
		"handoff":            {},
		"handoff/boltstore":  {"handoff", "handoff/enginetest"},
		"handoff/redisstore": {"handoff", "handoff/enginetest", "handoff/desktest"},
		"handoff/enginetest": {"handoff"},
		"handoff/desktest":   {"handoff", "handoff/boltstore", "handoff/redisstore"},
		"handoff/console":    {"handoff", "handoff/desktest", "handoff/enginetest"}, // the reports' scripted day, in tests
		"widget":             {"bot", "handoff", "handoff/desktest", "handoff/boltstore", "handoff/redisstore", "kb"},
		"knowledge":          {"kb", "kb/kbtest", "bot"},
	}
	// testHelpers may be imported by the tests of any package: they import no package
	// of the project (checked below), so they bring no dependency in.
	testHelpers := []string{"internal/redistest", "internal/miniotest"}
	only := map[string][]string{ // third-party import → the packages that may use it
		"github.com/blevesearch/bleve":       {"kb"},
		"github.com/gorilla/websocket":       {"widget"},
		"github.com/yuin/goldmark":           {"knowledge"},
		"github.com/microcosm-cc/bluemonday": {"knowledge"},
		"github.com/redis/go-redis":          {"handoff/redisstore", "handoff/desktest", "kb", "internal/account", "internal/audit", "internal/ratelimit", "internal/webhook/redisstore", "cmd/kefu"},
		"github.com/minio/minio-go":          {"internal/files"},
		"go.etcd.io/bbolt":                   {"handoff/boltstore", "handoff/desktest", "kb", "internal/account", "internal/audit", "internal/boltdb", "internal/boltdb/bolttest", "internal/webhook/boltstore", "cmd/kefu"},
	}
	onlyTests := map[string][]string{ // third-party import → the packages whose tests may use it too
		"github.com/redis/go-redis":    {"widget", "internal/webhook"}, // to run the desk, the webhooks on the Redis engine
		"go.etcd.io/bbolt":             {"widget", "kb/kbtest"},        // to open a throwaway database
		"github.com/gorilla/websocket": {"cmd/kefu"},                   // to dial the widget end to end
	}
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}}:{{join .Imports " "}}:{{join .TestImports " "}} {{join .XTestImports " "}}`,
		"github.com/kefu-im/kefu/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	type importList struct{ code, tests []string }
	imports := make(map[string]importList) // package → what its code and its tests import
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			t.Fatalf("go list line %q", line)
		}
		imports[strings.TrimPrefix(parts[0], mod)] = importList{strings.Fields(parts[1]), strings.Fields(parts[2])}
	}
	if len(imports) < len(allowed) {
		t.Fatalf("go list listed %d packages: %s", len(imports), out)
	}
	for _, h := range testHelpers {
		for _, imp := range append(imports[h].code, imports[h].tests...) {
			if strings.HasPrefix(imp, mod) {
				t.Errorf("test helper %s imports %s; it may import no package of the project", h, imp)
			}
		}
	}
	for short, list := range imports {
		for i, imp := range append(list.code, list.tests...) {
			test := i >= len(list.code)
			if dep, ok := strings.CutPrefix(imp, mod); ok {
				internal := strings.HasPrefix(dep, "internal/")
				switch {
				case dep == short || strings.HasPrefix(dep, short+"/"):
					// itself (an external test package) or one of its sub-packages
				case strings.HasPrefix(short, "internal/"):
					if !internal {
						t.Errorf("%s imports %s; internal packages import no role package", short, dep)
					}
				case internal || test && slices.Contains(testHelpers, dep):
				default:
					if rule, known := allowed[short]; known && !contains(rule, dep) {
						t.Errorf("%s imports %s; allowed: %v", short, dep, rule)
					}
				}
				if strings.HasPrefix(short, "internal/") && !strings.HasPrefix(dep, "internal/") {
					t.Errorf("%s imports %s; internal/ imports no role package", short, dep)
				}
				continue
			}
			for prefix, users := range only {
				if !strings.HasPrefix(imp, prefix) || slices.Contains(users, short) {
					continue
				}
				if test && slices.Contains(onlyTests[prefix], short) {
					continue
				}
				t.Errorf("%s imports %s; only %v may (and the tests of %v)", short, imp, users, onlyTests[prefix])
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
