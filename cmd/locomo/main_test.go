package main

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dataset writes a small LoCoMo-format file: one conversation in three
// sessions, keyed out of numeric order, and two questions.
func dataset(t *testing.T) string {
	t.Helper()
	session := func(id, text string) []map[string]string {
		return []map[string]string{{"speaker": "Ann", "dia_id": id, "text": text}}
	}
	samples := []map[string]any{{
		"sample_id": "conv-1",
		"conversation": map[string]any{
			"speaker_a":            "Ann",
			"session_10":           session("D10:1", "I adopted a grey cat named Pixel."),
			"session_2":            session("D2:1", "My sister lives in Lisbon and paints murals."),
			"session_1":            session("D1:1", "I started learning the cello in March."),
			"session_1_date_time":  "1 May 2023",
			"session_10_date_time": "9 May 2023",
		},
		"qa": []map[string]any{
			{"question": "What is the name of Ann's cat?", "evidence": []string{"D10:1"}, "category": 4},
			{"question": "Where does Ann's sister live?", "evidence": []string{"D2:1"}, "category": 1},
			{"question": "adversarial", "evidence": []string{"D1:1"}, "category": 5},
		},
	}}
	raw, err := json.Marshal(samples)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "locomo.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTurnsInSessionOrder(t *testing.T) {
	var samples []sample
	raw, _ := os.ReadFile(dataset(t))
	if err := json.Unmarshal(raw, &samples); err != nil {
		t.Fatal(err)
	}
	_, order, err := samples[0].turns()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, " "); got != "D1:1 D2:1 D10:1" {
		t.Errorf("turn order %q, want D1:1 D2:1 D10:1 (session_10 after session_2)", got)
	}
}

func TestRunHashing(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-data", dataset(t)}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"1 conversations, 3 memories, 2 questions", "embedder memoryrelay-hash", "keyword", "semantic", "hybrid"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// Keyword search finds both answers first: R@1 1.000 overall.
	if !strings.Contains(s, "keyword  |all           |2         |1.000") {
		t.Errorf("keyword R@1 not 1.000:\n%s", s)
	}
}

func TestRunBadFlags(t *testing.T) {
	data := dataset(t)
	for _, args := range [][]string{
		{"-modes", "keyword,semantik"},
		{"-modes", "hybrid,hybrid"},
		{"-modes", ""},
		{"-model2vec", t.TempDir(), "-openai-url", "http://127.0.0.1:1/v1"},
		{"-model2vec", filepath.Join(t.TempDir(), "missing")},
		{"-openai-url", "http://127.0.0.1:1/v1"}, // no model, no dimension
		{"stray"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"-data", data}, args...), &out); err == nil {
			t.Errorf("%q: no error; printed:\n%s", args, out.String())
		}
	}
}

// TestRunOpenAICompatible measures an OpenAI-compatible server (a fake
// whose vectors are word hashes) with the same program.
func TestRunOpenAICompatible(t *testing.T) {
	const dim = 64
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		var req struct {
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i, text := range req.Input {
			v := make([]float32, dim)
			for _, w := range strings.Fields(strings.ToLower(text)) {
				h := fnv.New32a()
				h.Write([]byte(strings.Trim(w, ".,?!'s")))
				v[h.Sum32()%dim]++
			}
			v[0] += 0.01 // never all zero
			data = append(data, item{i, v})
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	defer srv.Close()
	var out bytes.Buffer
	args := []string{"-data", dataset(t), "-modes", "semantic", "-openai-url", srv.URL + "/v1", "-openai-model", "fake", "-openai-dim", "64"}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || !strings.Contains(out.String(), "fake") {
		t.Errorf("the fake server was not measured (%d calls):\n%s", calls, out.String())
	}
}
