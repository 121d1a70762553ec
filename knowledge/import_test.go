package knowledge_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/knowledge"
)

// wantProblem is what a test expects of an ImportProblem: its file and line, and a
// substring of its message.
type wantProblem struct {
	file string
	line int
	msg  string
}

func checkImport(t *testing.T, arts []kb.Article, problems []knowledge.ImportProblem, err error, wantIDs []string, want []wantProblem) {
	t.Helper()
	if err != nil {
		t.Fatalf("import error %v, want none", err)
	}
	var ids []string
	for _, a := range arts {
		ids = append(ids, a.ID)
	}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("imported %q, want %q", ids, wantIDs)
	}
	if len(problems) != len(want) {
		t.Errorf("problems %+v, want %d", problems, len(want))
		return
	}
	for i, w := range want {
		p := problems[i]
		if p.File != w.file || p.Line != w.line || !strings.Contains(p.Message, w.msg) {
			t.Errorf("problem %d = %+v, want file %q line %d message containing %q", i, p, w.file, w.line, w.msg)
		}
	}
}

// zipFile is an entry of a test zip.
type zipFile struct{ name, content string }

func makeZip(t *testing.T, files ...zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadImportZip(t *testing.T) {
	data := makeZip(t,
		zipFile{"kb/README.md", readmeMD},
		zipFile{"kb/a/ok.md", okMD},
		zipFile{"kb/a/b/c/nested.MD", nestedMD},
		zipFile{"kb/notes.txt", "not an article"},
		zipFile{"kb/img/logo.png", "\x89PNG"},
		zipFile{"kb/a/no-front.md", noFrontMD},
		zipFile{"kb/a/bad-yaml.md", badYAMLMD},
		zipFile{"kb/a/bad-cat.md", badCatMD},
		zipFile{"kb/a/unsafe.md", unsafeMD},
		zipFile{"kb/z/dup.md", dupOkMD},
		zipFile{"__MACOSX/kb/a/._ok.md", appleDblMD},
		zipFile{"kb/a/._ok.md", appleDblMD},
		zipFile{"kb/.git/x.md", okMD},
		zipFile{"kb/", ""},
	)
	arts, problems, err := knowledge.ReadImport("articles.zip", data)
	// Files are read in the order of their names.
	checkImport(t, arts, problems, err, []string{"nested", "ok"}, []wantProblem{
		{"kb/a/bad-cat.md", 0, `unknown category "sales"`},
		{"kb/a/bad-yaml.md", 3, "mapping values are not allowed"},
		{"kb/a/no-front.md", 0, "missing front matter"},
		{"kb/a/unsafe.md", 0, "answer contains a link to a javascript: URL"},
		{"kb/z/dup.md", 0, `duplicate id "ok", first used in kb/a/ok.md`},
	})
	for _, p := range problems {
		if strings.Contains(p.Message, p.File) {
			t.Errorf("problem %+v repeats its file name in its message", p)
		}
	}
}

func TestReadImportZipErrors(t *testing.T) {
	valid := makeZip(t, zipFile{"ok.md", okMD})
	tests := []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"not a zip", "a.zip", []byte("this is text"), "not a readable zip file"},
		{"truncated", "a.zip", valid[:len(valid)-10], "not a readable zip file"},
		{"garbage after the magic", "upload", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0xff}, 100)...), "not a readable zip file"},
		{"no articles", "a.zip", makeZip(t, zipFile{"README.md", readmeMD}, zipFile{"a.txt", "x"}), "no Markdown"},
		{"empty zip", "a.zip", makeZip(t), "no Markdown"},
		{"too many files", "a.zip", manyFilesZip(t, knowledge.MaxImportFiles+1), "more than 10000"},
		{"declared too large", "a.zip", rawZip(t, "big.md", []byte(okMD), knowledge.MaxImportBytes+1), "more than 50 MB"},
		{"declared small, actually large", "a.zip", rawZip(t, "bomb.md", bytes.Repeat([]byte("炸"), 1<<20), 100), "bomb.md: damaged, or larger than the 100 bytes it declares"},
		{"corrupt data", "a.zip", corruptZip(t), "ok.md"},
		{"unknown format", "notes.txt", []byte("hello"), "neither"},
		{"empty unknown", "upload", nil, "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arts, problems, err := knowledge.ReadImport(tt.file, tt.data)
			if !errors.Is(err, knowledge.ErrBadImport) {
				t.Fatalf("ReadImport = %v, %v, %v; want ErrBadImport", arts, problems, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadImport error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// manyFilesZip returns a zip of n empty files.
func manyFilesZip(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: "f" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + ".txt", Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawZip returns a zip of one file holding content, deflated, whose headers declare it
// holds declared bytes.
func rawZip(t *testing.T, name string, content []byte, declared uint64) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Deflate,
		CRC32:              crc32.ChecksumIEEE(content),
		CompressedSize64:   uint64(comp.Len()),
		UncompressedSize64: declared,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(comp.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// corruptZip returns a zip of okMD, stored uncompressed, with one byte of it changed
// so that its checksum fails.
func corruptZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "ok.md", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(okMD)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	out[bytes.Index(out, []byte("可以的亲"))] ^= 1
	return out
}

func TestReadImportZipLargeFile(t *testing.T) {
	big := okMD + strings.Repeat("很长的回答。", 200_000)
	data := makeZip(t, zipFile{"big.md", big}, zipFile{"small.md", nestedMD})
	arts, problems, err := knowledge.ReadImport("a.zip", data)
	checkImport(t, arts, problems, err, []string{"nested"}, []wantProblem{{"big.md", 0, "larger than 2 MB"}})
}

func TestReadImportZipBackslashNames(t *testing.T) {
	data := makeZip(t, zipFile{`kb\sub\ok.md`, okMD}, zipFile{`kb\README.md`, readmeMD})
	arts, problems, err := knowledge.ReadImport("a.zip", data)
	checkImport(t, arts, problems, err, []string{"ok"}, nil)
}

func TestReadImportJSON(t *testing.T) {
	line := func(a kb.Article) string {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ok := kb.Article{ID: "ok", Title: "能开发票吗", Category: kb.CategoryPresale, Answer: "可以"}
	other := kb.Article{ID: "other", Title: "发货", Category: kb.CategoryInsale, Answer: "48 小时内", Tags: []string{"发货"}}
	invalid := kb.Article{ID: "Bad ID", Title: "x", Category: kb.CategoryPresale, Answer: "x"}
	unsafe := kb.Article{ID: "unsafe", Title: "x", Category: kb.CategoryPresale, Answer: "<script>alert(1)</script>"}

	tests := []struct {
		name, file string
		data       string
		wantIDs    []string
		want       []wantProblem
	}{
		{
			name: "lines with problems",
			file: "kb.jsonl",
			data: "\xef\xbb\xbf" + line(ok) + "\r\n\n" +
				`{"id": "broken", "title": ` + "\n" +
				line(invalid) + "\n" +
				line(unsafe) + "\n" +
				line(ok) + "\n" +
				`["not", "an", "object"]` + "\n" +
				line(other) + "\n",
			wantIDs: []string{"ok", "other"},
			want: []wantProblem{
				{"kb.jsonl", 3, "bad JSON: unexpected end of JSON input"},
				{"kb.jsonl", 4, `id "Bad ID"`},
				{"kb.jsonl", 5, "answer contains a <script> tag"},
				{"kb.jsonl", 6, `duplicate id "ok", first used in line 1`},
				{"kb.jsonl", 7, "bad JSON: json: cannot unmarshal array"},
			},
		},
		{
			name:    "json file of lines",
			file:    "kb.json",
			data:    line(ok) + "\n" + line(other),
			wantIDs: []string{"ok", "other"},
		},
		{
			name:    "json array",
			file:    "kb.json",
			data:    "[\n  " + line(ok) + ",\n  " + line(invalid) + ",\n  {\"id\": 5},\n  " + line(other) + "\n]\n",
			wantIDs: []string{"ok", "other"},
			want: []wantProblem{
				{"kb.json", 3, `id "Bad ID"`},
				{"kb.json", 4, "bad JSON: json: cannot unmarshal number"},
			},
		},
		{
			name:    "recognised by content",
			file:    "upload",
			data:    line(ok) + "\n",
			wantIDs: []string{"ok"},
		},
		{
			name: "empty file",
			file: "kb.jsonl",
			data: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arts, problems, err := knowledge.ReadImport(tt.file, []byte(tt.data))
			checkImport(t, arts, problems, err, tt.wantIDs, tt.want)
		})
	}
}

func TestReadImportJSONArrayErrors(t *testing.T) {
	for _, data := range []string{"[", `[{"id": "a"},`, `[{"id": "a"} {"id": "b"}]`, `[{"id": "a"}] x`, `[1] [2]`} {
		_, _, err := knowledge.ReadImport("kb.json", []byte(data))
		if !errors.Is(err, knowledge.ErrBadImport) {
			t.Errorf("ReadImport(%q) = %v, want ErrBadImport", data, err)
		}
	}
}

func TestReadImportMarkdown(t *testing.T) {
	tests := []struct {
		name, file, data string
		wantIDs          []string
		want             []wantProblem
	}{
		{"article", "ok.md", okMD, []string{"ok"}, nil},
		{"by content", "upload", okMD, []string{"ok"}, nil},
		{"bad front matter", "bad.md", badYAMLMD, nil, []wantProblem{{"bad.md", 3, "front matter"}}},
		{"no front matter", "x.markdown", noFrontMD, nil, []wantProblem{{"x.markdown", 0, "missing front matter"}}},
		{
			"front matter of the wrong shape", "shape.md",
			"---\nid: shape\ntitle: t\ncategory: presale\nquestions: {a: 1}\n---\nx\n", nil,
			[]wantProblem{{"shape.md", 5, "cannot unmarshal"}},
		},
		{
			"unclosed front matter", "open.md", "---\nid: open\ntitle: t\n", nil,
			[]wantProblem{{"open.md", 0, "not closed"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arts, problems, err := knowledge.ReadImport(tt.file, []byte(tt.data))
			checkImport(t, arts, problems, err, tt.wantIDs, tt.want)
		})
	}
}

// writeTree writes files, by slash-separated path, under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadImportDir(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"README.md":          readmeMD,
		"ok.md":              okMD,
		"sub/deep/nested.md": nestedMD,
		"sub/bad-yaml.md":    badYAMLMD,
		"sub/notes.txt":      "x",
		"z/dup.md":           dupOkMD,
		".git/x.md":          nestedMD,
		".hidden.md":         nestedMD,
	})
	arts, problems, err := knowledge.ReadImportDir(dir)
	checkImport(t, arts, problems, err, []string{"ok", "nested"}, []wantProblem{
		{"sub/bad-yaml.md", 3, "mapping values"},
		{"z/dup.md", 0, `duplicate id "ok", first used in ok.md`},
	})

	if _, _, err := knowledge.ReadImportDir(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("ReadImportDir(missing directory) = nil error")
	}
}

func TestReadImportDirBundled(t *testing.T) {
	arts, problems, err := knowledge.ReadImportDir("articles")
	if err != nil || len(problems) > 0 {
		t.Fatalf("ReadImportDir(articles) = %v, %v", problems, err)
	}
	if want := bundled(t); !reflect.DeepEqual(arts, want) {
		t.Errorf("ReadImportDir(articles) differs from Bundled")
	}
}

func TestPlanImport(t *testing.T) {
	entry := func(a kb.Article) kb.Entry {
		return kb.Entry{Article: a, Status: kb.StatusPublished, Version: 2}
	}
	same := kb.Article{ID: "same", Title: "t", Category: kb.CategoryPresale, Questions: []string{"q"}, Answer: "a"}
	changed := kb.Article{ID: "changed", Title: "t", Category: kb.CategoryPresale, Questions: []string{"q"}, Answer: "a", Tags: []string{"x"}}
	allFields := kb.Article{ID: "all", Title: "t", Category: kb.CategoryPresale, Questions: []string{"q"}, Answer: "a"}
	untouched := kb.Article{ID: "untouched", Title: "t", Category: kb.CategoryPolicy, Answer: "a"}
	current := []kb.Entry{entry(same), entry(changed), entry(allFields), entry(untouched)}

	sameAgain := same
	sameAgain.Answer = "a\r\n\n"        // as Markdown reads it back: unchanged
	sameAgain.Questions = []string{"q"} // a new slice, equal
	changedAgain := changed
	changedAgain.Answer = "b"
	changedAgain.Tags = []string{"x", "y"}
	allAgain := kb.Article{
		ID: "all", Title: "T", Category: kb.CategoryPolicy, Questions: []string{"q", "r"}, Answer: "A",
		Tags: []string{"t"}, AfterSales: true, Lang: "en",
	}
	incoming := []kb.Article{
		{ID: "new-b", Title: "t", Category: kb.CategoryPresale, Answer: "a"},
		changedAgain,
		sameAgain,
		{ID: "new-a", Title: "t", Category: kb.CategoryPresale, Answer: "a"},
		allAgain,
		{ID: "new-a", Title: "duplicate", Category: kb.CategoryPresale, Answer: "a"},
	}
	got := knowledge.PlanImport(current, incoming)
	want := knowledge.ImportPlan{
		Create: []string{"new-a", "new-b"},
		Update: []knowledge.ImportChange{
			{ID: "all", Fields: []string{"title", "category", "questions", "answer", "tags", "after_sales", "lang"}},
			{ID: "changed", Fields: []string{"answer", "tags"}},
		},
		Unchanged: []string{"same"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PlanImport =\n%+v\nwant\n%+v", got, want)
	}
}

func TestPlanImportEmptyJSON(t *testing.T) {
	b, err := json.Marshal(knowledge.PlanImport(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"create":[],"update":[],"unchanged":[]}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	b, err = json.Marshal(knowledge.ImportProblem{File: "a.md", Line: 3, Message: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"file":"a.md","line":3,"message":"m"}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}
