package knowledge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
)

// raw sends body with Content-Type ctype (none when empty) as the user of token and
// returns the status, the headers and the body of the answer.
func (e *env) raw(token, method, path, ctype string, body []byte) (int, http.Header, []byte) {
	e.t.Helper()
	req := e.api.NewRequest(e.t, method, path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+e.session(token))
	resp, data := e.api.Send(e.t, req)
	return resp.StatusCode, resp.Header, data
}

// importResult is the answer of POST /api/articles/import.
type importResult struct {
	DryRun   bool                      `json:"dry_run"`
	Plan     knowledge.ImportPlan      `json:"plan"`
	Problems []knowledge.ImportProblem `json:"problems"`
	Applied  int                       `json:"applied"`
}

func (e *env) importFile(path, ctype string, body []byte) (int, importResult) {
	e.t.Helper()
	code, _, data := e.raw("ed", "POST", path, ctype, body)
	var out importResult
	if code == 200 {
		if err := json.Unmarshal(data, &out); err != nil {
			e.t.Fatalf("import answer %q: %v", data, err)
		}
	}
	return code, out
}

// transferSeed is what the import tests start from: two published articles.
var transferSeed = []kb.Article{
	{ID: "same", Title: "可以开发票吗", Category: "presale", Questions: []string{"能开发票不"}, Answer: "可以的亲，下单时填写抬头。", Tags: []string{"发票"}},
	{ID: "changed", Title: "几天发货", Category: "insale", Questions: []string{"什么时候发货"}, Answer: "付款后 48 小时内发货。"},
}

const (
	sameMD    = "---\nid: same\ntitle: 可以开发票吗\ncategory: presale\nquestions: [能开发票不]\ntags: [发票]\n---\n可以的亲，下单时填写抬头。\n"
	changedMD = "---\nid: changed\ntitle: 几天发货\ncategory: insale\nquestions: [什么时候发货]\ntags: [发货]\n---\n付款后 24 小时内发货。\n"
	newMD     = "---\nid: trade-in\ntitle: 旧手机可以以旧换新吗\ncategory: presale\nquestions: [以旧换新怎么弄, 旧手机能抵钱吗]\n---\n可以的，下单时选择「以旧换新」，旧机评估后抵扣货款。\n"
	brokenMD  = "---\nid: broken\ntitle: 分类不对\ncategory: sales\n---\n正文\n"
)

func TestImportZipOverHTTP(t *testing.T) {
	e := newEnv(t, transferSeed)
	ctx := context.Background()
	zip := makeZip(t,
		zipFile{"kb/same.md", sameMD}, zipFile{"kb/changed.md", changedMD},
		zipFile{"kb/trade-in.md", newMD}, zipFile{"kb/broken.md", brokenMD}, zipFile{"kb/README.md", readmeMD},
	)

	// The dry run reports the plan and the problem, and saves nothing.
	code, dry := e.importFile("/api/articles/import?name=kb.zip&dry_run=1", "application/zip", zip)
	want := knowledge.ImportPlan{
		Create:    []string{"trade-in"},
		Update:    []knowledge.ImportChange{{ID: "changed", Fields: []string{"answer", "tags"}}},
		Unchanged: []string{"same"},
	}
	if code != 200 || !dry.DryRun || dry.Applied != 0 || !reflect.DeepEqual(dry.Plan, want) {
		t.Fatalf("dry run: %d %+v, want plan %+v", code, dry, want)
	}
	if len(dry.Problems) != 1 || dry.Problems[0].File != "kb/broken.md" || !strings.Contains(dry.Problems[0].Message, `unknown category "sales"`) {
		t.Fatalf("dry run problems = %+v, want kb/broken.md's unknown category", dry.Problems)
	}
	if _, err := e.store.Get(ctx, "trade-in"); !errors.Is(err, kb.ErrNotFound) {
		t.Fatalf("the dry run created trade-in: %v", err)
	}
	if cur, _ := e.store.Get(ctx, "changed"); cur.Version != 1 {
		t.Fatalf("the dry run changed an article: %+v", cur)
	}

	// The import carries the plan out: the new article is published and searchable.
	code, done := e.importFile("/api/articles/import?name=kb.zip", "application/zip", zip)
	if code != 200 || done.DryRun || done.Applied != 2 || !reflect.DeepEqual(done.Plan, want) || len(done.Problems) != 1 {
		t.Fatalf("import: %d %+v", code, done)
	}
	e.waitIndexed("trade-in", true)
	var found struct{ Articles []listed }
	e.call("ed", "GET", "/api/articles?q=旧手机能抵钱吗", nil, &found)
	if len(found.Articles) == 0 || found.Articles[0].ID != "trade-in" {
		t.Fatalf("search after the import = %+v, want trade-in first", found.Articles)
	}
	vs, err := e.store.Versions(ctx, "changed")
	if err != nil || len(vs) != 2 || vs[0].Action != kb.ActionImport || vs[0].UpdatedBy != "erin" || vs[0].Answer != "付款后 24 小时内发货。" {
		t.Fatalf("versions of changed = %+v, %v; want an import version by erin", vs, err)
	}
	// The same file again changes nothing.
	if code, again := e.importFile("/api/articles/import?name=kb.zip", "application/zip", zip); code != 200 || again.Applied != 0 || len(again.Plan.Unchanged) != 3 {
		t.Fatalf("second import: %d %+v", code, again)
	}
}

func TestImportJSONLAsDraft(t *testing.T) {
	e := newEnv(t, transferSeed)
	line, _ := json.Marshal(kb.Article{ID: "trade-in", Title: "旧手机可以以旧换新吗", Category: "presale",
		Questions: []string{"旧手机能抵钱吗"}, Answer: "可以的，旧机评估后抵扣货款。"})
	code, out := e.importFile("/api/articles/import?name=sync.jsonl&status=draft", "application/x-ndjson", append(line, '\n'))
	if code != 200 || out.Applied != 1 || !reflect.DeepEqual(out.Plan.Create, []string{"trade-in"}) {
		t.Fatalf("import: %d %+v", code, out)
	}
	var got article
	if e.call("ed", "GET", "/api/articles/trade-in", nil, &got); got.Status != "draft" || got.Version != 1 {
		t.Fatalf("imported article = %+v, want a draft at version 1", got)
	}
	// The feed is applied in order: once an article published after the import is in
	// the index, the draft's change has been applied too, and it is not searchable.
	if code := e.call("ed", "POST", "/api/articles", map[string]any{"id": "barrier", "title": "屏障", "category": "policy", "answer": "回答", "status": "published"}, nil); code != 201 {
		t.Fatalf("create: %d", code)
	}
	e.waitIndexed("barrier", true)
	if _, err := e.index.Article("trade-in"); err == nil {
		t.Fatal("a draft imported with status=draft is in the bot's index")
	}
}

func TestImportBadFiles(t *testing.T) {
	e := newEnv(t, transferSeed)
	cases := []struct {
		name, path, ctype string
		body              []byte
		status            int
		code, msg         string
	}{
		{"garbage", "/api/articles/import?name=notes.bin", "application/octet-stream", []byte("\x00\x01\x02 not an export"), 400, "invalid", "neither a zip"},
		{"broken zip", "/api/articles/import?name=kb.zip", "application/zip", []byte("PK\x03\x04 this is no zip"), 400, "invalid", "not a readable zip"},
		{"zip without articles", "/api/articles/import?name=kb.zip", "application/zip", makeZip(t, zipFile{"notes.txt", "hello"}), 400, "invalid", "no Markdown"},
		{"bad JSON array", "/api/articles/import?name=kb.json", "application/json", []byte(`[{"id": "x",`), 400, "invalid", "bad JSON"},
		{"unknown status", "/api/articles/import?name=kb.jsonl&status=live", "application/x-ndjson", []byte("{}\n"), 400, "invalid", "status"},
		{"over 20 MB", "/api/articles/import?name=kb.jsonl", "application/x-ndjson", bytes.Repeat([]byte(" "), 20<<20+1), 413, "too_large", "20 MB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, data := e.raw("ed", "POST", c.path, c.ctype, c.body)
			var got apiErr
			json.Unmarshal(data, &got)
			if code != c.status || got.Error.Code != c.code || !strings.Contains(got.Error.Message, c.msg) {
				t.Fatalf("status %d, %s; want %d %s with a message containing %q", code, data, c.status, c.code, c.msg)
			}
		})
	}
	if code, _, _ := e.raw("agent", "POST", "/api/articles/import?name=kb.zip", "application/zip", makeZip(t, zipFile{"a.md", newMD})); code != 403 {
		t.Errorf("an agent's import: status %d, want 403", code)
	}
	// Nothing was saved by any of them.
	if es, _ := e.store.List(context.Background()); len(es) != len(transferSeed) {
		t.Fatalf("%d articles after the bad imports, want %d", len(es), len(transferSeed))
	}
}

func TestExportOverHTTP(t *testing.T) {
	e := newEnv(t, transferSeed)
	if code := e.call("ed", "POST", "/api/articles", map[string]any{"id": "draft-one", "title": "草稿", "category": "policy", "answer": "**草稿**的回答", "tags": []string{"草稿"}}, nil); code != 201 {
		t.Fatalf("create: %d", code)
	}
	entries, err := e.store.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var stored []kb.Article
	for _, en := range entries {
		stored = append(stored, en.Article)
	}

	for _, f := range []struct{ format, ctype, ext string }{
		{"jsonl", "application/x-ndjson", ".jsonl"},
		{"zip", "application/zip", ".zip"},
	} {
		t.Run(f.format, func(t *testing.T) {
			code, h, data := e.raw("ed", "GET", "/api/articles/export?format="+f.format, "", nil)
			if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), f.ctype) || !strings.Contains(h.Get("Content-Disposition"), f.ext+`"`) {
				t.Fatalf("export: %d %q %q", code, h.Get("Content-Type"), h.Get("Content-Disposition"))
			}
			arts, problems, err := knowledge.ReadImport("export"+f.ext, data)
			if err != nil || len(problems) > 0 {
				t.Fatalf("reading the export: %v %+v", err, problems)
			}
			if !reflect.DeepEqual(arts, stored) {
				t.Fatalf("export read back:\n%+v\nwant the stored articles:\n%+v", arts, stored)
			}
		})
	}
	code, _, data := e.raw("ed", "GET", "/api/articles/export?format=jsonl&status=draft", "", nil)
	arts, _, err := knowledge.ReadImport("drafts.jsonl", data)
	if code != 200 || err != nil || len(arts) != 1 || arts[0].ID != "draft-one" {
		t.Fatalf("export of drafts: %d %v %+v", code, err, arts)
	}
	if code, _, _ := e.raw("ed", "GET", "/api/articles/export?format=csv", "", nil); code != 400 {
		t.Fatalf("export as csv: %d, want 400", code)
	}
}
