// Command locomo measures retrieval quality on a LoCoMo-format file: it
// stores every turn of each conversation as a memory in an account of its
// own, asks each question of categories 1–4, and prints recall@1, @5 and
// @10 (the share of a question's evidence turns among the top k hits),
// overall and per category, for keyword-only, vector-only and hybrid
// search, with the embedder named, the change from keyword-only search
// beside every other mode, and the mean time of a search.
//
//	go run ./cmd/locomo -data ../shared/data/locomo-dev.json
//	go run ./cmd/locomo -model2vec /models/potion-base-8M
//	go run ./cmd/locomo -openai-url http://localhost:11434/v1 -openai-model nomic-embed-text -openai-dim 768
//
// By default it measures the built-in hashing embedder; -model2vec and
// -openai-url measure another one with the same program. The OpenAI key is
// read from -openai-key-env (default OPENAI_API_KEY, sent only to OpenAI's
// own host unless the flag names it).
//
// The data set is not part of this repository (see its licence); pass its
// path.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/embed/model2vec"
	"github.com/memoryrelay/memoryrelay/search/embed/openai"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "locomo:", err)
		os.Exit(1)
	}
}

// sample is one conversation of the file with its questions.
type sample struct {
	ID           string                     `json:"sample_id"`
	Conversation map[string]json.RawMessage `json:"conversation"`
	QA           []struct {
		Question string   `json:"question"`
		Evidence []string `json:"evidence"`
		Category int      `json:"category"`
	} `json:"qa"`
}

type turn struct {
	Speaker string `json:"speaker"`
	DiaID   string `json:"dia_id"`
	Text    string `json:"text"`
	Caption string `json:"blip_caption"`
}

var sessionKey = regexp.MustCompile(`^session_(\d+)$`)

// sessionNumber is the n of a "session_n" key.
func sessionNumber(k string) int {
	n, _ := strconv.Atoi(sessionKey.FindStringSubmatch(k)[1])
	return n
}

// turns returns the conversation's turns by dia_id, as memory texts.
func (s sample) turns() (map[string]string, []string, error) {
	texts := map[string]string{}
	var order []string
	keys := make([]string, 0, len(s.Conversation))
	for k := range s.Conversation {
		if sessionKey.MatchString(k) {
			keys = append(keys, k)
		}
	}
	// Numeric order: session_10 comes after session_2.
	sort.Slice(keys, func(i, j int) bool { return sessionNumber(keys[i]) < sessionNumber(keys[j]) })
	for _, k := range keys {
		var ts []turn
		if err := json.Unmarshal(s.Conversation[k], &ts); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", s.ID, k, err)
		}
		for _, t := range ts {
			text := t.Speaker + ": " + t.Text
			if t.Caption != "" {
				text += " [image: " + t.Caption + "]"
			}
			texts[t.DiaID] = text
			order = append(order, t.DiaID)
		}
	}
	return texts, order, nil
}

var ks = []int{1, 5, 10}

// hit is a search result: the turn it stores and its score.
type hit struct {
	dia   string
	score float64
}

// engine is what the measurement stores turns in and searches.
type engine interface {
	// add stores a turn of the conversation account.
	add(ctx context.Context, account, dia, text string) error
	// search returns the top 10 turns of account for query in mode.
	search(ctx context.Context, account, query, mode string) ([]hit, error)
}

// relayEngine is -engine relay: memoryrelay through its facade, one
// account per conversation.
type relayEngine struct {
	relay    *memoryrelay.Relay
	accounts map[string]string // conversation → account id
	dias     map[string]string // memory id → dia id
}

func (r *relayEngine) add(ctx context.Context, account, dia, text string) error {
	id, ok := r.accounts[account]
	if !ok {
		acct, err := r.relay.CreateAccount(ctx, account)
		if err != nil {
			return err
		}
		id = acct.ID
		r.accounts[account] = id
	}
	m, err := r.relay.Account(id).Memories().Create(ctx, memory.NewMemory{Content: text, AgentID: account, Metadata: json.RawMessage(`{"dia_id":"` + dia + `"}`)})
	if err != nil {
		return err
	}
	r.dias[m.Memory.ID] = dia
	return nil
}

func (r *relayEngine) search(ctx context.Context, account, query, mode string) ([]hit, error) {
	hs, err := r.relay.Account(r.accounts[account]).Memories().Search(ctx, memory.SearchParams{Query: query, Limit: 10, Mode: mode})
	if err != nil {
		return nil, err
	}
	out := make([]hit, len(hs))
	for i, h := range hs {
		out[i] = hit{dia: r.dias[h.Memory.ID], score: h.Score}
	}
	return out, nil
}

// reliability counts, per score bucket of width 0.1, the hits returned
// and those that are evidence turns.
type reliability struct{ hits, evidence [10]int }

func (r *reliability) add(hs []hit, evidence map[string]bool) {
	for _, h := range hs {
		b := min(int(h.score*10), 9)
		r.hits[b]++
		if evidence[h.dia] {
			r.evidence[b]++
		}
	}
}

// tally accumulates recall@k over questions.
type tally struct {
	n   int
	sum [3]float64
}

func (t *tally) add(hits []string, evidence map[string]bool) {
	t.n++
	for i, k := range ks {
		found := 0
		for j := 0; j < k && j < len(hits); j++ {
			if evidence[hits[j]] {
				found++
			}
		}
		t.sum[i] += float64(found) / float64(len(evidence))
	}
}

func (t tally) recall(i int) float64 {
	if t.n == 0 {
		return 0
	}
	return t.sum[i] / float64(t.n)
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("locomo", flag.ContinueOnError)
	data := fs.String("data", "../shared/data/locomo-dev.json", "LoCoMo-format JSON file")
	dim := fs.Int("dim", embed.DefaultDimension, "dimension of the built-in hashing embedder")
	modes := fs.String("modes", "keyword,semantic,hybrid", "search modes to measure, comma-separated")
	limit := fs.Int("samples", 0, "use only the first N conversations (0: all)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	m2v := fs.String("model2vec", "", "measure the Model2Vec model in this directory instead of the hashing embedder")
	oaiURL := fs.String("openai-url", "", "measure an OpenAI-compatible /embeddings server at this base URL")
	oaiModel := fs.String("openai-model", "", "with -openai-url: the model")
	oaiDim := fs.Int("openai-dim", 0, "with -openai-url: the model's dimension")
	oaiKeyEnv := fs.String("openai-key-env", "", "with -openai-url: the environment variable holding the API key (default OPENAI_API_KEY for api.openai.com only)")
	engineName := fs.String("engine", "relay", "relay (memoryrelay through its facade, SQLite) or inprocess (package search's engine over memories in this process, with the in-memory lexical index)")
	fusionName := fs.String("fusion", "auto", "hybrid fusion: auto, lexical-first or blend")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	modeList, err := parseModes(*modes)
	if err != nil {
		return err
	}
	fusion, err := parseFusion(*fusionName)
	if err != nil {
		return err
	}
	emb, err := embedder(*dim, *m2v, openai.Options{BaseURL: *oaiURL, Model: *oaiModel, Dimension: *oaiDim, APIKeyEnv: *oaiKeyEnv})
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(*data)
	if err != nil {
		return err
	}
	var samples []sample
	if err := json.Unmarshal(raw, &samples); err != nil {
		return fmt.Errorf("%s: %w", *data, err)
	}
	if *limit > 0 && *limit < len(samples) {
		samples = samples[:*limit]
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "locomo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var eng engine
	switch *engineName {
	case "relay":
		relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "eval.db"), Synchronous: "OFF", Embedder: emb, Fusion: fusion})
		if err != nil {
			return err
		}
		defer relay.Close()
		eng = &relayEngine{relay: relay, accounts: map[string]string{}, dias: map[string]string{}}
	case "inprocess":
		m, err := newMemEngine(emb, fusion)
		if err != nil {
			return err
		}
		eng = m
	default:
		return fmt.Errorf("-engine %q: want relay or inprocess", *engineName)
	}

	overall := make(map[string]*tally)
	perCat := make(map[string]map[int]*tally)
	rel := make(map[string]*reliability)
	for _, m := range modeList {
		overall[m] = &tally{}
		perCat[m] = map[int]*tally{1: {}, 2: {}, 3: {}, 4: {}}
		rel[m] = &reliability{}
	}
	spent := make(map[string]time.Duration) // in Memories().Search, per mode
	start := time.Now()
	memories, questions := 0, 0
	for _, s := range samples {
		texts, order, err := s.turns()
		if err != nil {
			return err
		}
		for _, dia := range order {
			if err := eng.add(ctx, s.ID, dia, texts[dia]); err != nil {
				return fmt.Errorf("%s %s: %w", s.ID, dia, err)
			}
			memories++
		}
		for _, qa := range s.QA {
			if qa.Category < 1 || qa.Category > 4 {
				continue
			}
			evidence := map[string]bool{}
			for _, e := range qa.Evidence {
				for _, id := range strings.Split(e, ";") { // a few ids are joined
					if id = strings.TrimSpace(id); texts[id] != "" {
						evidence[id] = true
					}
				}
			}
			if len(evidence) == 0 {
				continue
			}
			questions++
			for _, mode := range modeList {
				t0 := time.Now()
				hits, err := eng.search(ctx, s.ID, qa.Question, mode)
				spent[mode] += time.Since(t0)
				var verr *memory.ValidationError
				if errors.As(err, &verr) {
					continue // a question with no searchable text
				}
				if err != nil {
					return err
				}
				dias := make([]string, len(hits))
				for i, h := range hits {
					dias[i] = h.dia
				}
				rel[mode].add(hits, evidence)
				overall[mode].add(dias, evidence)
				perCat[mode][qa.Category].add(dias, evidence)
			}
		}
	}
	fmt.Fprintf(out, "LoCoMo retrieval: %d conversations, %d memories, %d questions (categories 1-4), embedder %s, engine %s, fusion %s, %s\n\n",
		len(samples), memories, questions, emb.Model(), *engineName, fusion, time.Since(start).Round(time.Second))
	// Beside each mode, the change from keyword-only search (when measured)
	// in the same scope, so that a fusion below its lexical input shows.
	tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "mode\tscope\tquestions\tR@1\tR@5\tR@10\tΔR@5 vs keyword\tΔR@10 vs keyword\t")
	names := map[int]string{1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
	row := func(mode, scope string, t, kw *tally) {
		delta := "\t"
		if kw != nil && mode != search.ModeKeyword {
			delta = fmt.Sprintf("%+.3f\t%+.3f", t.recall(1)-kw.recall(1), t.recall(2)-kw.recall(2))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%s\t\n", mode, scope, t.n, t.recall(0), t.recall(1), t.recall(2), delta)
	}
	for _, mode := range modeList {
		row(mode, "all", overall[mode], overall[search.ModeKeyword])
		for c := 1; c <= 4; c++ {
			row(mode, fmt.Sprintf("%d %s", c, names[c]), perCat[mode][c], perCat[search.ModeKeyword][c])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Reliability: of the hits in each score bucket, the share that are
	// evidence turns.
	fmt.Fprintln(out, "\nreliability: share of returned hits (top 10) that are evidence turns, by score")
	tw = tabwriter.NewWriter(out, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprint(tw, "mode\t")
	for b := range 10 {
		fmt.Fprintf(tw, "[%.1f,%.1f)\t", float64(b)/10, float64(b+1)/10)
	}
	fmt.Fprintln(tw)
	for _, mode := range modeList {
		fmt.Fprintf(tw, "%s\t", mode)
		for b := range 10 {
			r := rel[mode]
			if r.hits[b] == 0 {
				fmt.Fprint(tw, "-\t")
				continue
			}
			fmt.Fprintf(tw, "%.2f (%d)\t", float64(r.evidence[b])/float64(r.hits[b]), r.hits[b])
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	for _, mode := range modeList {
		if n := overall[mode].n; n > 0 {
			fmt.Fprintf(out, "%s: %.2f ms per search\n", mode, float64(spent[mode].Microseconds())/1000/float64(n))
		}
	}
	return nil
}

// parseModes reads -modes: known modes, each once.
func parseModes(list string) ([]string, error) {
	var modes []string
	seen := map[string]bool{}
	for _, m := range strings.Split(list, ",") {
		m = strings.TrimSpace(m)
		switch m {
		case search.ModeKeyword, search.ModeSemantic, search.ModeHybrid:
		default:
			return nil, fmt.Errorf("-modes: unknown mode %q (want keyword, semantic or hybrid, comma-separated)", m)
		}
		if seen[m] {
			return nil, fmt.Errorf("-modes: %q named twice", m)
		}
		seen[m] = true
		modes = append(modes, m)
	}
	return modes, nil
}

// embedder returns the embedder to measure: Model2Vec from a directory,
// an OpenAI-compatible server, or the built-in hashing embedder.
func embedder(dim int, m2vDir string, oai openai.Options) (embed.Embedder, error) {
	switch {
	case m2vDir != "" && oai.BaseURL != "":
		return nil, errors.New("-model2vec and -openai-url exclude each other")
	case m2vDir != "":
		return model2vec.Load(m2vDir)
	case oai.BaseURL != "":
		return openai.New(oai)
	}
	return embed.NewHashing(dim), nil
}
