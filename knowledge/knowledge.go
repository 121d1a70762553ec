// Package knowledge serves knowledge editors and holds the bundled knowledge: the
// articles under articles/ (Markdown with YAML front matter) and the standard phrases
// (话术) in phrases.yaml, both embedded in the binary.
package knowledge

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kefu-im/kefu/kb"
	"gopkg.in/yaml.v3"
)

//go:embed articles/*.md phrases.yaml phrases.en.yaml
var bundled embed.FS

// Bundled returns the articles that ship with Kefu.
func Bundled() ([]kb.Article, error) {
	sub, err := fs.Sub(bundled, "articles")
	if err != nil {
		return nil, err
	}
	return kb.ReadMarkdownFS(sub)
}

// LoadDir reads every *.md article of a directory on disk. A missing directory is an
// error, not an empty knowledge base.
func LoadDir(dir string) ([]kb.Article, error) {
	// fs.Glob ignores the error of reading the directory, so read it here first.
	if _, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("reading knowledge directory: %w", err)
	}
	return kb.ReadMarkdownFS(os.DirFS(filepath.Clean(dir)))
}

// PhraseLangs are the languages of the bundled phrases: zh (phrases.yaml, the default)
// and en (phrases.en.yaml).
var PhraseLangs = []string{"zh", "en"}

// phraseFile is the bundled phrases' file of lang.
func phraseFile(lang string) string {
	if lang == "zh" || lang == "" {
		return "phrases.yaml"
	}
	return "phrases." + lang + ".yaml"
}

// Phrases returns the bundled Chinese standard phrases by key (greeting,
// transfer_presale, …).
func Phrases() (map[string]string, error) { return PhrasesIn("zh") }

// PhrasesIn returns the bundled standard phrases of lang (one of PhraseLangs) by key;
// a key missing in the language is missing here too (the desk falls back to Chinese).
func PhrasesIn(lang string) (map[string]string, error) {
	name := phraseFile(lang)
	b, err := bundled.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	p := make(map[string]string, len(raw))
	for k, n := range raw {
		if k == "canned" {
			continue
		}
		var s string
		if err := n.Decode(&s); err != nil {
			return nil, fmt.Errorf("parsing %s: %s: %w", name, k, err)
		}
		p[k] = s
	}
	return p, nil
}

// CannedReply is one entry of the canned section of phrases.yaml: a reply an agent
// picks with "/" in the console.
type CannedReply struct {
	Key   string `yaml:"key"`
	Title string `yaml:"title"`
	Text  string `yaml:"text"`
}

// Canned returns the canned replies of phrases.yaml, in order.
func Canned() ([]CannedReply, error) { return CannedIn("zh") }

// CannedIn returns the bundled canned replies of lang (one of PhraseLangs), in order.
func CannedIn(lang string) ([]CannedReply, error) {
	name := phraseFile(lang)
	b, err := bundled.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Canned []CannedReply `yaml:"canned"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	return doc.Canned, nil
}

// Load reads articles from a directory of Markdown files or from a JSON Lines file
// (name ending in .jsonl).
func Load(path string) ([]kb.Article, error) {
	if strings.HasSuffix(path, ".jsonl") {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return kb.ReadJSONL(f)
	}
	return LoadDir(path)
}
