package knowledge

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/kb"
	"gopkg.in/yaml.v3"
)

// Limits of an import. An import over them is refused as a whole with ErrBadImport: they
// guard against zip bombs, whose entries decompress to far more than the upload.
const (
	// MaxImportFiles is the most entries a zip (or files a directory) may hold.
	MaxImportFiles = 10_000
	// MaxImportBytes is the most a zip's entries may hold uncompressed, all together,
	// both as their headers declare and as they are read.
	MaxImportBytes = 50 << 20
	// maxImportFileBytes is the most one Markdown file may hold; a larger one is a
	// problem, not imported. An article at kb's limits is well under 1 MB.
	maxImportFileBytes = 2 << 20
)

// ImportProblem is a file or line of an import that gave no article, and why.
type ImportProblem struct {
	// File is the file's path inside the zip or directory, or the name of the JSON file.
	File string `json:"file"`
	// Line is the line in File the problem is on, when known; 0 otherwise.
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// ImportPlan is what an import would do to the store: the ids it creates, updates and
// leaves as they are, each list sorted. An import never deletes.
type ImportPlan struct {
	Create    []string       `json:"create"`
	Update    []ImportChange `json:"update"`
	Unchanged []string       `json:"unchanged"`
}

// ImportChange is an article an import updates, and which of its fields differ: some of
// "title", "category", "questions", "answer", "tags", "after_sales" and "lang", in that
// order.
type ImportChange struct {
	ID     string   `json:"id"`
	Fields []string `json:"fields"`
}

// frontMatter is an article's YAML front matter, its fields in the order of the bundled
// articles.
type frontMatter struct {
	ID         string   `yaml:"id"`
	Title      string   `yaml:"title"`
	Category   string   `yaml:"category"`
	Lang       string   `yaml:"lang,omitempty"`
	Questions  []string `yaml:"questions,omitempty"`
	Tags       []string `yaml:"tags,omitempty,flow"`
	AfterSales bool     `yaml:"after_sales"`
}

// WriteMarkdown writes a as Markdown with YAML front matter, the format of the bundled
// articles and the inverse of kb.ParseMarkdown: parsing the result gives a back, with its
// answer's line ends as "\n" and its leading and trailing white space trimmed (as
// ParseMarkdown trims it), and empty question and tag lists as nil.
func WriteMarkdown(a kb.Article) []byte {
	var buf bytes.Buffer
	buf.WriteString("---\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	err := enc.Encode(frontMatter{
		ID: a.ID, Title: a.Title, Category: a.Category, Lang: a.Lang,
		Questions: a.Questions, Tags: a.Tags, AfterSales: a.AfterSales,
	})
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		// yaml.v3 encodes any string (invalid UTF-8 as !!binary), string slice and bool;
		// an error here is a bug in it.
		panic(fmt.Sprintf("knowledge: encoding front matter of %q: %v", a.ID, err))
	}
	buf.WriteString("---\n")
	if answer := normalizeAnswer(a.Answer); answer != "" {
		buf.WriteString(answer)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// normalizeAnswer returns the answer as kb.ParseMarkdown reads it back.
func normalizeAnswer(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// exportTime is the modification time of every file ExportZip writes, so that the same
// articles give the same zip. It is the earliest time a zip can hold.
var exportTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// ExportZip writes arts as a zip of Markdown files, articles/<id>.md each, in the order
// given. ReadImport reads it back. An id that cannot be a file name, or one used twice,
// is an error wrapping kb.ErrInvalid.
func ExportZip(w io.Writer, arts []kb.Article) error {
	zw := zip.NewWriter(w)
	seen := make(map[string]bool, len(arts))
	for _, a := range arts {
		if a.ID == "" || a.ID == "." || a.ID == ".." || strings.ContainsAny(a.ID, `/\`) {
			return fmt.Errorf("%w: exporting: id %q cannot be a file name", kb.ErrInvalid, a.ID)
		}
		if seen[a.ID] {
			return fmt.Errorf("%w: exporting: id %q is used twice", kb.ErrInvalid, a.ID)
		}
		seen[a.ID] = true
		f, err := zw.CreateHeader(&zip.FileHeader{
			Name:     "articles/" + a.ID + ".md",
			Method:   zip.Deflate,
			Modified: exportTime,
		})
		if err != nil {
			return fmt.Errorf("exporting %q: %w", a.ID, err)
		}
		if _, err := f.Write(WriteMarkdown(a)); err != nil {
			return fmt.Errorf("exporting %q: %w", a.ID, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("exporting: %w", err)
	}
	return nil
}

// ExportJSONL writes arts as JSON Lines, one article a line, in the format kb.ReadJSONL
// and ReadImport read.
func ExportJSONL(w io.Writer, arts []kb.Article) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, a := range arts {
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("exporting %q: %w", a.ID, err)
		}
	}
	return nil
}

// ReadImport reads the articles of an uploaded file named name: a zip of Markdown
// articles (every *.md file at any depth, except README.md, hidden files and
// __MACOSX/), a single Markdown article (.md), or JSON Lines (.jsonl, .json; a .json
// file may also hold one JSON array of articles). A zip is recognised by its content,
// the other formats by the name, or, failing that, by the content.
//
// An article that cannot be read, fails kb.Article.Validate or CheckContent, or has an
// id an earlier article of the import has, is not returned but reported as an
// ImportProblem. The error, wrapping ErrBadImport, is for a file that cannot be read as
// a whole: an unknown format, a malformed zip, a zip over MaxImportFiles or
// MaxImportBytes, or a zip with no Markdown file.
func ReadImport(name string, data []byte) ([]kb.Article, []ImportProblem, error) {
	lower := strings.ToLower(name)
	start := bytes.TrimLeft(bytes.TrimPrefix(data, utf8BOM), " \t\r\n")
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")) ||
		strings.HasSuffix(lower, ".zip"):
		return importZip(data)
	case strings.HasSuffix(lower, ".jsonl") || strings.HasSuffix(lower, ".ndjson") ||
		strings.HasSuffix(lower, ".json"):
		return importJSON(name, data)
	case strings.HasSuffix(lower, ".md") || strings.HasSuffix(lower, ".markdown"):
		return importMarkdown(name, data)
	case bytes.HasPrefix(start, []byte("{")) || bytes.HasPrefix(start, []byte("[")):
		return importJSON(name, data)
	case bytes.HasPrefix(start, []byte("---")):
		return importMarkdown(name, data)
	}
	return nil, nil, fmt.Errorf("%w: %s is neither a zip of Markdown articles, a Markdown article nor JSON Lines", ErrBadImport, name)
}

var utf8BOM = []byte("\xef\xbb\xbf")

// ReadImportDir reads the Markdown articles of a directory on disk and its
// subdirectories, as ReadImport reads those of a zip, with the same limits; problems name
// files by their slash-separated path inside dir.
func ReadImportDir(dir string) ([]kb.Article, []ImportProblem, error) {
	if _, err := os.ReadDir(dir); err != nil {
		return nil, nil, fmt.Errorf("reading import directory: %w", err)
	}
	fsys := os.DirFS(dir)
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && skippedDir(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if isArticleFile(p) {
			names = append(names, p)
			if len(names) > MaxImportFiles {
				return fmt.Errorf("%w: the directory holds more than %d Markdown files", ErrBadImport, MaxImportFiles)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading import directory: %w", err)
	}
	im := newImporter()
	var total int64
	for _, name := range names {
		b, err := readImportFile(fsys, name)
		if err != nil {
			return nil, nil, fmt.Errorf("reading import directory: %w", err)
		}
		if total += int64(len(b)); total > MaxImportBytes {
			return nil, nil, fmt.Errorf("%w: the directory's Markdown files hold more than %d MB", ErrBadImport, MaxImportBytes>>20)
		}
		im.addMarkdown(name, b)
	}
	return im.arts, im.problems, nil
}

// readImportFile reads a file of fsys, but no more than one byte over maxImportFileBytes.
func readImportFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxImportFileBytes+1))
}

// skippedDir reports whether a directory of a zip or of disk is not searched for
// articles: hidden ones (.git) and macOS's __MACOSX.
func skippedDir(name string) bool {
	return strings.HasPrefix(name, ".") || name == "__MACOSX"
}

// isArticleFile reports whether the slash-separated path p names an article: a .md file
// other than README.md, in no hidden or __MACOSX directory and not hidden itself (macOS
// puts "._name.md" files in zips).
func isArticleFile(p string) bool {
	parts := strings.Split(p, "/")
	for _, dir := range parts[:len(parts)-1] {
		if skippedDir(dir) {
			return false
		}
	}
	base := parts[len(parts)-1]
	return strings.EqualFold(path.Ext(base), ".md") && !strings.HasPrefix(base, ".") &&
		!strings.EqualFold(base, "README.md")
}

// importZip reads the Markdown articles of a zip.
func importZip(data []byte) ([]kb.Article, []ImportProblem, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	// ErrInsecurePath (a name with "..", or absolute) comes with a usable reader; names
	// are only shown here, never used as paths on disk.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, nil, fmt.Errorf("%w: not a readable zip file: %v", ErrBadImport, err)
	}
	if len(zr.File) > MaxImportFiles {
		return nil, nil, fmt.Errorf("%w: the zip holds %d files, more than %d", ErrBadImport, len(zr.File), MaxImportFiles)
	}
	var declared uint64
	var files []*zip.File
	for _, f := range zr.File {
		if f.UncompressedSize64 > MaxImportBytes-declared {
			return nil, nil, fmt.Errorf("%w: the zip's files would take more than %d MB uncompressed", ErrBadImport, MaxImportBytes>>20)
		}
		declared += f.UncompressedSize64
		if !f.FileInfo().IsDir() && isArticleFile(zipName(f)) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%w: the zip holds no Markdown (.md) article", ErrBadImport)
	}
	sort.SliceStable(files, func(i, j int) bool { return zipName(files[i]) < zipName(files[j]) })
	im := newImporter()
	var total int64
	for _, f := range files {
		name := zipName(f)
		if f.UncompressedSize64 > maxImportFileBytes {
			im.problem(name, 0, fmt.Sprintf("file larger than %d MB", maxImportFileBytes>>20))
			continue
		}
		b, err := readZipFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadImport, name, err)
		}
		// The declared sizes are within MaxImportBytes and no file gave more than it
		// declared, so this holds; it is checked all the same, as the guard it is.
		if total += int64(len(b)); total > MaxImportBytes {
			return nil, nil, fmt.Errorf("%w: the zip's files take more than %d MB uncompressed", ErrBadImport, MaxImportBytes>>20)
		}
		im.addMarkdown(name, b)
	}
	return im.arts, im.problems, nil
}

// zipName is the slash-separated name of a zip entry (zips made on Windows may use
// backslashes).
func zipName(f *zip.File) string {
	return strings.ReplaceAll(f.Name, `\`, "/")
}

// readZipFile reads a zip entry, and fails when it holds more than its header declares:
// the declared size is what MaxImportBytes was checked against.
func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	if errors.Is(err, zip.ErrFormat) {
		// archive/zip itself stops an entry that gives more than it declares.
		return nil, fmt.Errorf("damaged, or larger than the %d bytes it declares: %w", f.UncompressedSize64, err)
	}
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) > f.UncompressedSize64 {
		return nil, fmt.Errorf("holds more than the %d bytes it declares", f.UncompressedSize64)
	}
	return b, nil
}

// importMarkdown reads a single uploaded Markdown article.
func importMarkdown(name string, data []byte) ([]kb.Article, []ImportProblem, error) {
	im := newImporter()
	im.addMarkdown(name, data)
	return im.arts, im.problems, nil
}

// importJSON reads JSON Lines, or a JSON array of articles.
func importJSON(name string, data []byte) ([]kb.Article, []ImportProblem, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("[")) {
		return importJSONArray(name, data)
	}
	im := newImporter()
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var a kb.Article
		if err := json.Unmarshal(line, &a); err != nil {
			im.problem(name, i+1, "bad JSON: "+err.Error())
			continue
		}
		im.add(name, i+1, a)
	}
	return im.arts, im.problems, nil
}

// importJSONArray reads a JSON array of articles. A syntax error stops it: the rest of the
// array cannot be found.
func importJSONArray(name string, data []byte) ([]kb.Article, []ImportProblem, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: bad JSON: %v", ErrBadImport, name, err)
	}
	im := newImporter()
	for dec.More() {
		line := lineAt(data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("%w: %s: line %d: bad JSON: %v", ErrBadImport, name, line, err)
		}
		var a kb.Article
		if err := json.Unmarshal(raw, &a); err != nil {
			im.problem(name, line, "bad JSON: "+err.Error())
			continue
		}
		im.add(name, line, a)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: bad JSON: %v", ErrBadImport, name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("%w: %s: bad JSON: more after the array", ErrBadImport, name)
	}
	return im.arts, im.problems, nil
}

// lineAt returns the line of the first byte of data at or after off that is not white
// space or a comma: where the JSON value after off starts.
func lineAt(data []byte, off int64) int {
	i := int(off)
	for i < len(data) && strings.IndexByte(" \t\r\n,", data[i]) >= 0 {
		i++
	}
	return bytes.Count(data[:min(i, len(data))], []byte("\n")) + 1
}

// importer collects the articles and problems of one import.
type importer struct {
	arts     []kb.Article
	problems []ImportProblem
	// seen is where each id was first found.
	seen map[string]ImportProblem
}

func newImporter() *importer {
	return &importer{seen: make(map[string]ImportProblem)}
}

func (im *importer) problem(file string, line int, msg string) {
	im.problems = append(im.problems, ImportProblem{File: file, Line: line, Message: msg})
}

// frontMatterLine finds the line of a YAML error in kb.ParseMarkdown's message.
var frontMatterLine = regexp.MustCompile(`front matter: yaml: (?:unmarshal errors:\s*)?line (\d+):`)

// addMarkdown parses one Markdown file and adds its article.
func (im *importer) addMarkdown(name string, data []byte) {
	if len(data) > maxImportFileBytes {
		im.problem(name, 0, fmt.Sprintf("file larger than %d MB", maxImportFileBytes>>20))
		return
	}
	a, err := kb.ParseMarkdown(name, data)
	if err != nil {
		line := 0
		if m := frontMatterLine.FindStringSubmatch(err.Error()); m != nil {
			// The front matter starts on the file's second line.
			n, _ := strconv.Atoi(m[1])
			line = n + 1
		}
		// The problem names the file already.
		im.problem(name, line, strings.Replace(err.Error(), name+": ", "", 1))
		return
	}
	im.add(name, 0, a)
}

// add checks an article read from line (0: the whole file) of file and adds it, or
// records why not.
func (im *importer) add(file string, line int, a kb.Article) {
	if err := a.Validate(); err != nil {
		im.problem(file, line, err.Error())
		return
	}
	if err := CheckContent(a); err != nil {
		im.problem(file, line, err.Error())
		return
	}
	if first, ok := im.seen[a.ID]; ok {
		where := first.File
		switch {
		case first.File == file && first.Line > 0:
			where = "line " + strconv.Itoa(first.Line)
		case first.Line > 0:
			where = first.File + " line " + strconv.Itoa(first.Line)
		}
		im.problem(file, line, fmt.Sprintf("duplicate id %q, first used in %s; not imported", a.ID, where))
		return
	}
	im.seen[a.ID] = ImportProblem{File: file, Line: line}
	im.arts = append(im.arts, a)
}

// PlanImport compares the articles of an import with the store's current entries and
// returns what importing them would do, without doing it. Of articles sharing an id,
// the first counts. Answers are compared as kb.ParseMarkdown reads them (line ends and
// surrounding white space aside); empty and missing question and tag lists are equal.
func PlanImport(current []kb.Entry, incoming []kb.Article) ImportPlan {
	plan := ImportPlan{Create: []string{}, Update: []ImportChange{}, Unchanged: []string{}}
	byID := make(map[string]kb.Article, len(current))
	for _, e := range current {
		byID[e.ID] = e.Article
	}
	seen := make(map[string]bool, len(incoming))
	for _, a := range incoming {
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		cur, ok := byID[a.ID]
		if !ok {
			plan.Create = append(plan.Create, a.ID)
			continue
		}
		if fields := changedFields(cur, a); len(fields) > 0 {
			plan.Update = append(plan.Update, ImportChange{ID: a.ID, Fields: fields})
		} else {
			plan.Unchanged = append(plan.Unchanged, a.ID)
		}
	}
	sort.Strings(plan.Create)
	sort.Slice(plan.Update, func(i, j int) bool { return plan.Update[i].ID < plan.Update[j].ID })
	sort.Strings(plan.Unchanged)
	return plan
}

// changedFields lists the fields in which a and b differ.
func changedFields(a, b kb.Article) []string {
	var fields []string
	diff := func(name string, differ bool) {
		if differ {
			fields = append(fields, name)
		}
	}
	diff("title", a.Title != b.Title)
	diff("category", a.Category != b.Category)
	diff("questions", !slices.Equal(a.Questions, b.Questions))
	diff("answer", normalizeAnswer(a.Answer) != normalizeAnswer(b.Answer))
	diff("tags", !slices.Equal(a.Tags, b.Tags))
	diff("after_sales", a.AfterSales != b.AfterSales)
	diff("lang", a.Lang != b.Lang)
	return fields
}
