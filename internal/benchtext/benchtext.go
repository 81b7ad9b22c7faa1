// Package benchtext makes the texts of search benchmarks: memories and
// queries drawn from a vocabulary, seeded, so that every run and every
// program sees the same texts.
//
// [Natural] is the vocabulary that users' text resembles: the 50,000
// most frequent English words of ../shared/data/words-50k.txt, drawn
// Zipf-wise (the word of rank r with probability proportional to 1/r),
// memories of 8–40 words and queries of 5–10 (the file's README). [Worst]
// is 72 words drawn uniformly, memories of 6–15 words: every memory
// shares terms with every query, a worst case no user has.
package benchtext

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Vocab is a vocabulary with the distribution words are drawn from and
// the lengths of memories and queries, in words.
type Vocab struct {
	Name               string
	words              []string
	cdf                []float64 // cumulative weights; nil: uniform
	MinText, MaxText   int
	MinQuery, MaxQuery int
}

// WordsFile is the natural vocabulary's path relative to the module root.
const WordsFile = "../shared/data/words-50k.txt"

// ErrNoWords is returned by [Natural] when the words file is missing (a
// fresh clone has no ../shared).
var ErrNoWords = errors.New("benchtext: " + WordsFile + " not found")

// Natural loads the natural vocabulary from [WordsFile], found from the
// working directory upwards (the module root's parent holds shared/).
func Natural() (*Vocab, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, WordsFile)
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("%w (from %s)", ErrNoWords, dir)
			}
			return LoadZipf(p)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, ErrNoWords
		}
		dir = parent
	}
}

// LoadZipf reads a word list, most frequent first, one a line, as a
// vocabulary drawn Zipf-wise with exponent 1, of memories of 8–40 words
// and queries of 5–10.
func LoadZipf(path string) (*Vocab, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v := &Vocab{Name: "natural", MinText: 8, MaxText: 40, MinQuery: 5, MaxQuery: 10}
	sc := bufio.NewScanner(f)
	var sum float64
	for sc.Scan() {
		w := strings.TrimSpace(sc.Text())
		if w == "" {
			continue
		}
		v.words = append(v.words, w)
		sum += 1 / float64(len(v.words))
		v.cdf = append(v.cdf, sum)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(v.words) == 0 {
		return nil, fmt.Errorf("benchtext: %s: no words", path)
	}
	return v, nil
}

// Worst returns the 72-word vocabulary of cmd/openbench, drawn uniformly,
// memories of 6–15 words, queries of 5–10.
func Worst() *Vocab {
	return &Vocab{Name: "worst", words: strings.Fields(worstWords), MinText: 6, MaxText: 15, MinQuery: 5, MaxQuery: 10}
}

const worstWords = `alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon
phi chi psi omega river mountain forest desert ocean island valley canyon glacier meadow harbor castle bridge tower garden
market library museum theater stadium airport station factory farm village city capital kingdom empire republic province`

// Len is the number of words.
func (v *Vocab) Len() int { return len(v.words) }

// Word draws a word.
func (v *Vocab) Word(rng *rand.Rand) string {
	if v.cdf == nil {
		return v.words[rng.IntN(len(v.words))]
	}
	u := rng.Float64() * v.cdf[len(v.cdf)-1]
	return v.words[sort.SearchFloat64s(v.cdf, u)]
}

func (v *Vocab) draw(rng *rand.Rand, lo, hi int) string {
	ws := make([]string, lo+rng.IntN(hi-lo+1))
	for i := range ws {
		ws[i] = v.Word(rng)
	}
	return strings.Join(ws, " ")
}

// Text draws a memory's text.
func (v *Vocab) Text(rng *rand.Rand) string { return v.draw(rng, v.MinText, v.MaxText) }

// Query draws a query.
func (v *Vocab) Query(rng *rand.Rand) string { return v.draw(rng, v.MinQuery, v.MaxQuery) }

// Rand returns the seeded generator of stream n: texts use stream 0 and
// queries stream 1, so the queries do not depend on how many texts were
// drawn.
func Rand(n uint64) *rand.Rand { return rand.New(rand.NewPCG(0x6d656d6f72792d72, n)) }
