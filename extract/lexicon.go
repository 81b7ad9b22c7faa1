package extract

import (
	"bufio"
	"embed"
	"fmt"
	"strings"
)

//go:embed lexicon/*.txt
var lexiconFS embed.FS

// lexEntry is one form of a name in a lexicon.
type lexEntry struct {
	typ        string
	toks       []string // the form's tokens: lower-cased unless exact
	exact      bool     // match the case as written
	notInitial bool     // never as a sentence's first word
}

// lexicon is the parsed lexicons: forms by their first token (lower
// case), and given names.
type lexicon struct {
	byFirst map[string][]lexEntry
	names   map[string]bool // given name → ambiguous (needs a surname or a cue)
	types   map[string]map[string]bool
}

var lexiconFiles = map[string]string{
	"technology.txt":   TypeTechnology,
	"product.txt":      TypeProduct,
	"organization.txt": TypeOrganization,
	"location.txt":     TypeLocation,
}

// loadLexicon parses the embedded lexicons. It is called once per
// Builtin; the files are small.
func loadLexicon() (*lexicon, error) {
	lx := &lexicon{byFirst: map[string][]lexEntry{}, names: map[string]bool{}, types: map[string]map[string]bool{}}
	for file, typ := range lexiconFiles {
		err := eachLine(file, func(line string) error {
			for _, form := range strings.Split(line, "|") {
				e := lexEntry{typ: typ}
				switch {
				case strings.HasPrefix(form, "="):
					e.exact, form = true, form[1:]
				case strings.HasPrefix(form, "!"):
					e.exact, e.notInitial, form = true, true, form[1:]
				}
				toks := tokenize(form, nil)
				if len(toks) == 0 {
					return fmt.Errorf("empty form in %q", line)
				}
				for _, t := range toks {
					if e.exact {
						e.toks = append(e.toks, t.base)
					} else {
						e.toks = append(e.toks, t.lower)
					}
				}
				k := strings.ToLower(e.toks[0])
				lx.byFirst[k] = append(lx.byFirst[k], e)
				if lx.types[strings.ToLower(form)] == nil {
					lx.types[strings.ToLower(form)] = map[string]bool{}
				}
				lx.types[strings.ToLower(form)][typ] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err := eachLine("firstnames.txt", func(line string) error {
		for _, form := range strings.Split(line, "|") {
			amb := strings.HasPrefix(form, "=")
			form = strings.TrimPrefix(form, "=")
			if prev, ok := lx.names[form]; ok {
				amb = amb || prev
			}
			lx.names[form] = amb
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lx, nil
}

func eachLine(file string, fn func(string) error) error {
	f, err := lexiconFS.Open("lexicon/" + file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("extract: lexicon/%s:%d: %w", file, n, err)
		}
	}
	return sc.Err()
}

// match returns the longest lexicon form starting at toks[i]: its type
// and length in tokens (0: none).
func (lx *lexicon) match(toks []token, i int) (typ string, n int) {
	for _, e := range lx.byFirst[toks[i].lower] {
		if len(e.toks) <= n || i+len(e.toks) > len(toks) {
			continue
		}
		if e.notInitial && toks[i].sentStart {
			continue
		}
		ok := true
		for k, want := range e.toks {
			t := toks[i+k]
			if k > 0 && !t.word && t.text != want {
				ok = false
				break
			}
			got := t.lower
			if e.exact {
				got = t.base
			}
			if got != want {
				ok = false
				break
			}
			if k < len(e.toks)-1 && t.base != t.text {
				ok = false // a possessive inside a name
				break
			}
		}
		if ok {
			typ, n = e.typ, len(e.toks)
		}
	}
	return typ, n
}
