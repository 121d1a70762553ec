package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImports enforces the dependency rules, for tests too: project packages import
// only the packages their row allows (and their own sub-packages and internal/),
// internal/ imports no role package, bleve is imported by kb alone, and the websocket
// library only by the package that serves shopper sockets.
func TestImports(t *testing.T) {
	const mod = "github.com/kefu-im/kefu/"
	allowed := map[string][]string{
		"kb":                {},
		"kb/kbtest":         {"kb"},
		"bot":               {"kb", "kb/kbtest"},
		"handoff":           {},
		"handoff/redistest": {},
		"widget":            {"bot", "handoff", "kb"},
		"knowledge":         {"kb", "kb/kbtest", "bot"},
	}
	// testHelpers may be imported by the tests of any package: they import no package
	// of the project (checked below), so they bring no dependency in.
	testHelpers := []string{"handoff/redistest"}
	only := map[string][]string{ // third-party import → the packages that may use it
		"github.com/blevesearch/bleve":       {"kb"},
		"github.com/gorilla/websocket":       {"widget"},
		"github.com/yuin/goldmark":           {"knowledge"},
		"github.com/microcosm-cc/bluemonday": {"knowledge"},
		"github.com/redis/go-redis":          {"handoff", "kb", "cmd/kefu"},
	}
	onlyTests := map[string][]string{ // third-party import → the packages whose tests may use it too
		"github.com/redis/go-redis":    {"widget"},   // to run the desk on the Redis engine
		"github.com/gorilla/websocket": {"cmd/kefu"}, // to dial the widget end to end
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
					if rule, known := allowed[short]; known && !slices.Contains(rule, dep) {
						t.Errorf("%s imports %s; allowed: %v", short, dep, rule)
					}
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
