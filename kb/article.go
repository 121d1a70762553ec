package kb

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Categories an article may belong to.
const (
	CategoryPresale   = "presale"
	CategoryInsale    = "insale"
	CategoryAftersale = "aftersale"
	CategoryPolicy    = "policy"
)

var categories = map[string]bool{
	CategoryPresale: true, CategoryInsale: true, CategoryAftersale: true, CategoryPolicy: true,
}

// Limits on an article's fields.
const (
	MaxTitleRunes    = 200
	MaxAnswerBytes   = 64 << 10
	MaxQuestions     = 1000
	MaxQuestionRunes = 300
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,95}$`)

// Article is one knowledge entry: a title, the alternative questions shoppers ask, and the
// answer the bot gives.
type Article struct {
	ID        string   `json:"id" yaml:"id"`
	Title     string   `json:"title" yaml:"title"`
	Category  string   `json:"category" yaml:"category"`
	Questions []string `json:"questions,omitempty" yaml:"questions"`
	Answer    string   `json:"answer" yaml:"-"`
	Tags      []string `json:"tags,omitempty" yaml:"tags"`
	// AfterSales marks an article of an after-sales procedure: the bot explains it and
	// still hands the conversation to an after-sales agent.
	AfterSales bool `json:"after_sales" yaml:"after_sales"`
	// Lang is a BCP 47 language tag; empty means "zh".
	Lang string `json:"lang,omitempty" yaml:"lang"`
}

// Validate reports the first problem with a, wrapped in ErrInvalid.
func (a Article) Validate() error {
	switch {
	case !idPattern.MatchString(a.ID):
		return fmt.Errorf("%w: id %q must be 1-96 of a-z, 0-9, '-' and '_'", ErrInvalid, a.ID)
	case strings.TrimSpace(a.Title) == "":
		return fmt.Errorf("%w: %s: empty title", ErrInvalid, a.ID)
	case utf8.RuneCountInString(a.Title) > MaxTitleRunes:
		return fmt.Errorf("%w: %s: title longer than %d characters", ErrInvalid, a.ID, MaxTitleRunes)
	case !categories[a.Category]:
		return fmt.Errorf("%w: %s: unknown category %q", ErrInvalid, a.ID, a.Category)
	case strings.TrimSpace(a.Answer) == "":
		return fmt.Errorf("%w: %s: empty answer", ErrInvalid, a.ID)
	case len(a.Answer) > MaxAnswerBytes:
		return fmt.Errorf("%w: %s: answer larger than %d bytes", ErrInvalid, a.ID, MaxAnswerBytes)
	case len(a.Questions) > MaxQuestions:
		return fmt.Errorf("%w: %s: more than %d questions", ErrInvalid, a.ID, MaxQuestions)
	}
	for _, q := range a.Questions {
		if strings.TrimSpace(q) == "" || utf8.RuneCountInString(q) > MaxQuestionRunes {
			return fmt.Errorf("%w: %s: a question is empty or longer than %d characters", ErrInvalid, a.ID, MaxQuestionRunes)
		}
	}
	return nil
}

// ParseMarkdown reads an article from Markdown with YAML front matter between two "---"
// lines; the body after the front matter is the answer. name is used in error messages.
func ParseMarkdown(name string, data []byte) (Article, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return Article{}, fmt.Errorf("%w: %s: missing front matter", ErrInvalid, name)
	}
	rest := data[len("---\n"):]
	end := bytes.Index(rest, []byte("\n---"))
	if end < 0 {
		return Article{}, fmt.Errorf("%w: %s: front matter not closed by ---", ErrInvalid, name)
	}
	var a Article
	if err := yaml.Unmarshal(rest[:end], &a); err != nil {
		return Article{}, fmt.Errorf("%w: %s: front matter: %v", ErrInvalid, name, err)
	}
	body := rest[end+len("\n---"):]
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	} else {
		body = nil
	}
	a.Answer = strings.TrimSpace(string(body))
	if err := a.Validate(); err != nil {
		return Article{}, fmt.Errorf("%s: %w", name, err)
	}
	return a, nil
}

// ReadMarkdownFS reads every *.md article at the top of fsys, sorted by file name, but
// README.md. Duplicate ids are an error wrapping ErrInvalid that names both files.
func ReadMarkdownFS(fsys fs.FS) ([]Article, error) {
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	seen := make(map[string]string)
	var out []Article
	for _, name := range names {
		if strings.EqualFold(path.Base(name), "README.md") {
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		a, err := ParseMarkdown(name, b)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[a.ID]; ok {
			return nil, fmt.Errorf("%w: %s and %s share the id %q", ErrInvalid, prev, name, a.ID)
		}
		seen[a.ID] = name
		out = append(out, a)
	}
	return out, nil
}
