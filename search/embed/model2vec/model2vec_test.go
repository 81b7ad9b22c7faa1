package model2vec_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/embed/model2vec"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// m2vDim is the dimension of the test model.
const m2vDim = 8

// m2vRow returns the test model's vector for token id: unit vectors for
// the tokens of "Playing, PLAYS!", a large vector for [UNK] (which must
// never count), and multiples of 1/4 in [-1.25, 1.25] for the rest, all
// exact in F16 and BF16.
func m2vRow(id int) []float32 {
	row := make([]float32, m2vDim)
	switch id {
	case idPlay, idIng, idComma, idS, idBang:
		row[map[int]int{idPlay: 0, idIng: 1, idComma: 2, idS: 3, idBang: 4}[id]] = 1
	case idUnk:
		for j := range row {
			row[j] = 100
		}
	default:
		for j := range row {
			row[j] = float32((id*7+j*3)%11-5) / 4
		}
	}
	return row
}

// m2vTensor describes one tensor for writeSafetensors.
type m2vTensor struct {
	Dtype       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// safetensorsFile returns a safetensors file: the little-endian header
// length, the header, the data.
func safetensorsFile(header, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

// m2vData returns the rows of m2vRow for ids [0, rows) encoded as dtype.
func m2vData(tb testing.TB, rows int, dtype string) []byte {
	tb.Helper()
	var out []byte
	for id := range rows {
		for _, x := range m2vRow(id) {
			bits := math.Float32bits(x)
			switch dtype {
			case "F32":
				out = binary.LittleEndian.AppendUint32(out, bits)
			case "BF16":
				if bits&0xFFFF != 0 {
					tb.Fatalf("%v is not exact in BF16", x)
				}
				out = binary.LittleEndian.AppendUint16(out, uint16(bits>>16))
			case "F16":
				out = binary.LittleEndian.AppendUint16(out, float32ToF16(tb, x))
			default:
				tb.Fatalf("dtype %s", dtype)
			}
		}
	}
	return out
}

// float32ToF16 converts x, which must be zero or a normal half-precision
// number with no more than 11 significant bits.
func float32ToF16(tb testing.TB, x float32) uint16 {
	tb.Helper()
	bits := math.Float32bits(x)
	sign := uint16(bits>>16) & 0x8000
	if x == 0 {
		return sign
	}
	exp := int(bits>>23&0xFF) - 127 + 15
	frac := bits & 0x7FFFFF
	if exp <= 0 || exp >= 31 || frac&0x1FFF != 0 {
		tb.Fatalf("%v is not exact in F16", x)
	}
	return sign | uint16(exp)<<10 | uint16(frac>>13)
}

// m2vSafetensors returns a valid model.safetensors for the tiny
// vocabulary, with dtype F32, F16 or BF16.
func m2vSafetensors(tb testing.TB, dtype string) []byte {
	tb.Helper()
	data := m2vData(tb, len(tinyVocab), dtype)
	header, err := json.Marshal(map[string]any{
		"__metadata__": map[string]string{"format": "pt"},
		"embeddings":   m2vTensor{dtype, []uint64{uint64(len(tinyVocab)), m2vDim}, []uint64{0, uint64(len(data))}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return safetensorsFile(header, data)
}

// writeModel writes a model directory named name under parent: the given
// tokenizer.json and model.safetensors, and config.json unless config is
// nil.
func writeModel(tb testing.TB, parent, name string, tokenizer, safetensors, config []byte) string {
	tb.Helper()
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	files := map[string][]byte{"tokenizer.json": tokenizer, "model.safetensors": safetensors, "config.json": config}
	for file, data := range files {
		if data == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// writeTinyModel writes the test model, with dtype F32, F16 or BF16, and
// returns its directory, named "tiny".
func writeTinyModel(tb testing.TB, parent, dtype string) string {
	tb.Helper()
	config := []byte(`{"model_type": "model2vec", "normalize": true, "hidden_dim": 8}`)
	return writeModel(tb, parent, "tiny", tokenizerJSON(tb, tokOpts{}), m2vSafetensors(tb, dtype), config)
}

func loadTinyModel(tb testing.TB, dtype string) *model2vec.Model {
	tb.Helper()
	m, err := model2vec.Load(writeTinyModel(tb, tb.TempDir(), dtype))
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return m
}

// meanOf returns the normalised mean of the rows of ids, computed the
// straightforward way.
func meanOf(ids ...int) []float32 {
	sum := make([]float64, m2vDim)
	for _, id := range ids {
		for j, x := range m2vRow(id) {
			sum[j] += float64(x)
		}
	}
	var norm float64
	for j := range sum {
		sum[j] /= float64(len(ids))
		norm += sum[j] * sum[j]
	}
	out := make([]float32, m2vDim)
	for j := range sum {
		out[j] = float32(sum[j] / math.Sqrt(norm))
	}
	return out
}

func closeTo(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i])-float64(b[i])) > tol {
			return false
		}
	}
	return true
}

func TestModel2VecEmbed(t *testing.T) {
	r8 := float32(1 / math.Sqrt(8))
	zero := make([]float32, m2vDim)
	tests := []struct {
		text string
		want []float32
	}{
		// play ##ing , play ##s ! → (2e0 + e1 + e2 + e3 + e4) / 6, normalised.
		{"Playing, PLAYS!", []float32{2 * r8, r8, r8, r8, r8, 0, 0, 0}},
		{"play", []float32{1, 0, 0, 0, 0, 0, 0, 0}},
		{"play xyz", []float32{1, 0, 0, 0, 0, 0, 0, 0}}, // [UNK] does not count
		{"the café", meanOf(idThe, idCafe)},
		{"hello world?", meanOf(16, 17, 15)},
		{"", zero},
		{"   ", zero},
		{"xyz qqq", zero}, // only unknown words
		// Only the first 512 tokens count: "!" × 600 then "game".
		{strings.Repeat("!", 600) + " game", []float32{0, 0, 0, 0, 1, 0, 0, 0}},
		// Text is cut to 512 × 3 characters (3 is the median token
		// length of the vocabulary) before tokenizing.
		{strings.Repeat("play ", 600) + "game", []float32{1, 0, 0, 0, 0, 0, 0, 0}},
		{strings.Repeat("play ", 300) + "game", meanOf(append(repeatID(idPlay, 300), idGame)...)},
	}
	for _, dtype := range []string{"F32", "F16", "BF16"} {
		t.Run(dtype, func(t *testing.T) {
			m := loadTinyModel(t, dtype)
			if got, want := m.Dimension(), m2vDim; got != want {
				t.Errorf("Dimension = %d, want %d", got, want)
			}
			if got, want := m.Model(), "model2vec:tiny"; got != want {
				t.Errorf("Model = %q, want %q", got, want)
			}
			texts := make([]string, len(tests))
			for i, tt := range tests {
				texts[i] = tt.text
			}
			vecs, err := m.Embed(context.Background(), texts)
			if err != nil {
				t.Fatalf("Embed: %v", err)
			}
			if len(vecs) != len(tests) {
				t.Fatalf("Embed returned %d vectors for %d texts", len(vecs), len(tests))
			}
			for i, tt := range tests {
				if !closeTo(vecs[i], tt.want, 1e-6) {
					t.Errorf("Embed(%.40q) = %v, want %v", tt.text, vecs[i], tt.want)
				}
			}
		})
	}
}

func repeatID(id, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = id
	}
	return out
}

// TestModel2VecVectorsAreStorable checks the Embedder contract: unit
// vectors that pass vector.Check, except the documented zero vector.
func TestModel2VecVectorsAreStorable(t *testing.T) {
	m := loadTinyModel(t, "F32")
	vecs, err := m.Embed(context.Background(), []string{"the cafe", "a's game!", ""})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vecs[:2] {
		if err := vector.Check(v, m.Dimension()); err != nil {
			t.Errorf("vector %d: vector.Check = %v", i, err)
		}
		if n := vector.Dot(v, v); math.Abs(float64(n)-1) > 1e-6 {
			t.Errorf("vector %d has squared norm %v", i, n)
		}
	}
	if err := vector.Check(vecs[2], m.Dimension()); !errors.Is(err, vector.ErrInvalid) {
		t.Errorf("vector.Check(zero vector of empty text) = %v, want ErrInvalid", err)
	}
}

func TestModel2VecF16Conversion(t *testing.T) {
	// One row of special half-precision values; the other rows zero.
	halves := []uint16{
		0x3C00, // 1
		0xC000, // -2
		0x3555, // 0.333251953125
		0x7BFF, // 65504, the largest half
		0x0001, // 2^-24, the smallest subnormal
		0x03FF, // largest subnormal
		0x8000, // -0
		0x0400, // 2^-14, the smallest normal
	}
	want := []float64{1, -2, 0.333251953125, 65504, math.Ldexp(1, -24), math.Ldexp(1023, -24), 0, math.Ldexp(1, -14)}
	rows := len(tinyVocab)
	data := make([]byte, 2*rows*m2vDim)
	for j, h := range halves {
		binary.LittleEndian.PutUint16(data[2*(idPlay*m2vDim+j):], h)
	}
	header, _ := json.Marshal(map[string]m2vTensor{"embeddings": {"F16", []uint64{uint64(rows), m2vDim}, []uint64{0, uint64(len(data))}}})
	dir := writeModel(t, t.TempDir(), "f16", tokenizerJSON(t, tokOpts{}), safetensorsFile(header, data), nil)
	m, err := model2vec.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := m.Embed(context.Background(), []string{"play"})
	if err != nil {
		t.Fatal(err)
	}
	var norm float64
	for _, x := range want {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	for j, x := range want {
		if got := float64(vecs[0][j]); math.Abs(got-x/norm) > 1e-7 {
			t.Errorf("element %d = %v, want %v", j, got, x/norm)
		}
	}
}

func TestModel2VecSingleUnnamedTensor(t *testing.T) {
	data := m2vData(t, len(tinyVocab), "F32")
	header, _ := json.Marshal(map[string]m2vTensor{"weight": {"F32", []uint64{uint64(len(tinyVocab)), m2vDim}, []uint64{0, uint64(len(data))}}})
	dir := writeModel(t, t.TempDir(), "unnamed", tokenizerJSON(t, tokOpts{}), safetensorsFile(header, data), nil)
	m, err := model2vec.Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if m.Dimension() != m2vDim {
		t.Errorf("Dimension = %d", m.Dimension())
	}
}

func TestModel2VecModelID(t *testing.T) {
	parent := t.TempDir()
	dir := writeTinyModel(t, parent, "F32")
	t.Chdir(dir)
	m, err := model2vec.Load(".")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Model(), "model2vec:tiny"; got != want {
		t.Errorf("Model = %q, want %q", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	rows := uint64(len(tinyVocab))
	data := m2vData(t, len(tinyVocab), "F32")
	n := uint64(len(data))
	valid := m2vSafetensors(t, "F32")
	withHeader := func(header any) []byte {
		h, err := json.Marshal(header)
		if err != nil {
			t.Fatal(err)
		}
		return safetensorsFile(h, data)
	}
	emb := func(dtype string, shape []uint64, begin, end uint64) map[string]any {
		return map[string]any{"embeddings": m2vTensor{dtype, shape, []uint64{begin, end}}}
	}
	nan := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(nan[4*(3*m2vDim+5):], math.Float32bits(float32(math.NaN())))
	inf := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(inf[4*(30*m2vDim):], math.Float32bits(float32(math.Inf(-1))))
	hugeLen := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint64(hugeLen, 1<<62)

	tests := []struct {
		name        string
		tokenizer   []byte
		safetensors []byte
		config      []byte
		wantErr     error  // ErrFormat unless set
		wantText    string // the error must mention this
	}{
		{name: "empty file", safetensors: []byte{}, wantText: "too short"},
		{name: "7 bytes", safetensors: valid[:7], wantText: "too short"},
		{name: "truncated data", safetensors: valid[:len(valid)-4], wantText: "data_offsets"},
		{name: "truncated header", safetensors: valid[:20], wantText: "header length"},
		{name: "header length too big", safetensors: hugeLen, wantText: "header length"},
		{name: "trailing bytes", safetensors: append(append([]byte(nil), valid...), 0, 0, 0, 0), wantText: "cover"},
		{name: "header not JSON", safetensors: safetensorsFile([]byte("{not json}"), data), wantText: "header"},
		{name: "header is an array", safetensors: safetensorsFile([]byte("[]"), data), wantText: "header"},
		{name: "header is null", safetensors: safetensorsFile([]byte("null"), data), wantText: "header"},
		{name: "offsets out of range", safetensors: withHeader(emb("F32", []uint64{rows, m2vDim}, 0, n+4)), wantText: "outside"},
		{name: "offsets reversed", safetensors: withHeader(emb("F32", []uint64{rows, m2vDim}, n, 0)), wantText: "outside"},
		{name: "offsets leave a gap", safetensors: withHeader(emb("F32", []uint64{rows, m2vDim - 1}, 4*rows, n)), wantText: "tile"},
		{name: "three offsets", safetensors: withHeader(map[string]any{"embeddings": map[string]any{
			"dtype": "F32", "shape": []uint64{rows, m2vDim}, "data_offsets": []uint64{0, n, n}}}), wantText: "data_offsets"},
		{name: "shape does not match size", safetensors: withHeader(emb("F32", []uint64{rows, m2vDim - 1}, 0, n)), wantText: "needs"},
		{name: "shape overflows", safetensors: withHeader(emb("F32", []uint64{1 << 40, 1 << 40}, 0, n)), wantText: "too large"},
		{name: "negative shape", safetensors: withHeader(map[string]any{"embeddings": map[string]any{
			"dtype": "F32", "shape": []int{-1, 8}, "data_offsets": []uint64{0, n}}}), wantText: "embeddings"},
		{name: "no shape", safetensors: withHeader(map[string]any{"embeddings": map[string]any{
			"dtype": "F32", "data_offsets": []uint64{0, n}}}), wantText: "shape"},
		{name: "unknown dtype", safetensors: withHeader(emb("F17", []uint64{rows, m2vDim}, 0, n)), wantText: `"F17"`},
		{name: "unsupported dtype", safetensors: withHeader(emb("I32", []uint64{rows, m2vDim}, 0, n)), wantText: "I32"},
		{name: "1-D tensor", safetensors: withHeader(emb("F32", []uint64{rows * m2vDim}, 0, n)), wantText: "shape"},
		{name: "3-D tensor", safetensors: withHeader(emb("F32", []uint64{rows, 2, 4}, 0, n)), wantText: "shape"},
		{name: "no tensors", safetensors: safetensorsFile([]byte(`{"__metadata__":{}}`), nil), wantText: "no tensors"},
		{name: "two tensors, none named embeddings", safetensors: withHeader(map[string]any{
			"a": m2vTensor{"F32", []uint64{rows, 4}, []uint64{0, n / 2}},
			"b": m2vTensor{"F32", []uint64{rows, 4}, []uint64{n / 2, n}},
		}), wantText: "none named"},
		{name: "extra tensor", safetensors: withHeader(map[string]any{
			"embeddings": m2vTensor{"F32", []uint64{rows, 4}, []uint64{0, n / 2}},
			"weights":    m2vTensor{"F32", []uint64{rows, 4}, []uint64{n / 2, n}},
		}), wantText: `"weights"`},
		{name: "overlapping tensors", safetensors: withHeader(map[string]any{
			"embeddings": m2vTensor{"F32", []uint64{rows, m2vDim}, []uint64{0, n}},
			"weights":    m2vTensor{"F32", []uint64{rows}, []uint64{0, 4 * rows}},
		}), wantText: "tile"},
		{name: "NaN", safetensors: safetensorsFile(withHeaderBytes(t, emb("F32", []uint64{rows, m2vDim}, 0, n)), nan), wantText: "NaN at row 3"},
		{name: "-Inf", safetensors: safetensorsFile(withHeaderBytes(t, emb("F32", []uint64{rows, m2vDim}, 0, n)), inf), wantText: "-Inf at row 30"},
		{name: "fewer rows than tokens", safetensors: safetensorsFile(
			withHeaderBytes(t, emb("F32", []uint64{rows - 1, m2vDim}, 0, n-4*m2vDim)), data[:n-4*m2vDim]), wantText: "rows"},
		{name: "unsupported tokenizer", tokenizer: tokenizerJSON(t, tokOpts{model: map[string]any{"type": "Unigram"}}), wantText: "Unigram"},
		{name: "malformed config", config: []byte(`{"normalize": tru`), wantText: "config.json"},
		{name: "config not an object", config: []byte(`[1]`), wantText: "config.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, st := tt.tokenizer, tt.safetensors
			if tok == nil {
				tok = tokenizerJSON(t, tokOpts{})
			}
			if st == nil {
				st = valid
			}
			dir := writeModel(t, t.TempDir(), "bad", tok, st, tt.config)
			m, err := model2vec.Load(dir)
			want := tt.wantErr
			if want == nil {
				want = model2vec.ErrFormat
			}
			if !errors.Is(err, want) {
				t.Fatalf("Load = %v, %v; want an error matching %v", m, err, want)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
		})
	}
}

func withHeaderBytes(tb testing.TB, header any) []byte {
	tb.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func TestLoadMissingFiles(t *testing.T) {
	tok, st := tokenizerJSON(t, tokOpts{}), m2vSafetensors(t, "F32")
	tests := []struct {
		name           string
		tokenizer, st  []byte
		missingSubject string
	}{
		{"no tokenizer.json", nil, st, "tokenizer.json"},
		{"no model.safetensors", tok, nil, "model.safetensors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeModel(t, t.TempDir(), "m", tt.tokenizer, tt.st, nil)
			_, err := model2vec.Load(dir)
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Load = %v, want fs.ErrNotExist", err)
			}
			if errors.Is(err, model2vec.ErrFormat) {
				t.Errorf("a missing file also matches ErrFormat: %v", err)
			}
			if !strings.Contains(err.Error(), tt.missingSubject) {
				t.Errorf("error %q does not name %s", err, tt.missingSubject)
			}
		})
	}
	if _, err := model2vec.Load(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing dir) = %v, want fs.ErrNotExist", err)
	}
}

func TestModel2VecContext(t *testing.T) {
	m := loadTinyModel(t, "F32")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, texts := range [][]string{nil, {"play"}, {"play", "game"}} {
		vecs, err := m.Embed(ctx, texts)
		if !errors.Is(err, context.Canceled) || vecs != nil {
			t.Errorf("Embed(cancelled, %d texts) = %v, %v; want nil, context.Canceled", len(texts), vecs, err)
		}
	}
}

// TestModel2VecConcurrent runs Embed from several goroutines (run with
// -race) and checks each gets the vectors of a sequential run.
func TestModel2VecConcurrent(t *testing.T) {
	m := loadTinyModel(t, "F32")
	texts := []string{"Playing, PLAYS!", "the café", "hello world?", "a's gamer", "中文 한"}
	want, err := m.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, err := m.Embed(context.Background(), texts)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range got {
					if !closeTo(got[i], want[i], 0) {
						t.Errorf("text %d: %v, want %v", i, got[i], want[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

var _ embed.Embedder = (*model2vec.Model)(nil)

func FuzzSafetensorsHeader(f *testing.F) {
	data := m2vData(f, len(tinyVocab), "F32")
	valid := m2vSafetensors(f, "F32")
	f.Add(valid[8:len(valid)-len(data)], data)
	f.Add([]byte(`{"embeddings":{"dtype":"F16","shape":[31,8],"data_offsets":[0,496]}}`), data[:496])
	f.Add([]byte(`{"embeddings":{"dtype":"BF16","shape":[31,8],"data_offsets":[0,496]}}`), data[:496])
	f.Add([]byte(`{"embeddings":{"dtype":"F32","shape":[31,8],"data_offsets":[0,992]},"x":{"dtype":"U8","shape":[],"data_offsets":[992,993]}}`), append(data, 1))
	f.Add([]byte(`{"embeddings":{"dtype":"F32","shape":[18446744073709551615,2],"data_offsets":[0,992]}}`), data)
	f.Add([]byte(`{"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}}`), data[:4])
	f.Add([]byte(`{"__metadata__":{"k":"v"}}`), []byte{})
	f.Add([]byte(`{`), data)
	f.Add([]byte{}, data)

	// Fuzz functions run one at a time in each process, so one
	// directory serves every input.
	dir := writeModel(f, f.TempDir(), "fuzz", tokenizerJSON(f, tokOpts{}), nil, nil)
	path := filepath.Join(dir, "model.safetensors")
	f.Fuzz(func(t *testing.T, header, data []byte) {
		if err := os.WriteFile(path, safetensorsFile(header, data), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := model2vec.Load(dir)
		if err != nil {
			if !errors.Is(err, model2vec.ErrFormat) {
				t.Fatalf("Load = %v, want an error matching ErrFormat", err)
			}
			return
		}
		vecs, err := m.Embed(context.Background(), []string{"Playing, PLAYS!", "xyz"})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vecs {
			if len(v) != m.Dimension() {
				t.Fatalf("vector of length %d, dimension %d", len(v), m.Dimension())
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("vector %v", v)
				}
			}
		}
	})
}

func BenchmarkModel2VecEmbed(b *testing.B) {
	m := loadTinyModel(b, "F32")
	texts := []string{
		"The user prefers playing games on the weekend, unbelievable!",
		"Hello world? The café is naïve.",
		strings.Repeat("play the game ", 30),
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
}

// ExampleLoad loads a model2vec model from a directory. Real
// models, such as minishlab/potion-base-8M, are downloaded once from the
// Hugging Face hub (this package never downloads anything); the example
// writes a tiny one instead.
func ExampleLoad() {
	parent, err := os.MkdirTemp("", "model2vec-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(parent)
	dir := filepath.Join(parent, "tiny-model")
	if err := os.Mkdir(dir, 0o755); err != nil {
		panic(err)
	}

	// tokenizer.json: a BERT-style WordPiece tokenizer.
	tokenizer := `{
		"normalizer": {"type": "BertNormalizer", "lowercase": true},
		"pre_tokenizer": {"type": "BertPreTokenizer"},
		"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"vocab": {"[UNK]": 0, "play": 1, "##ing": 2, "game": 3, "!": 4}}}`
	// model.safetensors: one F32 tensor, "embeddings", of shape [5, 4].
	rows := [][]float32{{0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}
	var data []byte
	for _, row := range rows {
		for _, x := range row {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(x))
		}
	}
	header := fmt.Sprintf(`{"embeddings":{"dtype":"F32","shape":[5,4],"data_offsets":[0,%d]}}`, len(data))
	st := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	st = append(append(st, header...), data...)
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(tokenizer), 0o644); err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), st, 0o644); err != nil {
		panic(err)
	}

	m, err := model2vec.Load(dir)
	if err != nil {
		panic(err)
	}
	// "Playing the game!" is play ##ing [UNK] game !, and [UNK] does not
	// count: its vector is the mean of rows 1 to 4.
	vecs, err := m.Embed(context.Background(), []string{"Playing the game!", "play"})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Model(), m.Dimension())
	fmt.Println(vecs[0])
	fmt.Printf("similarity %.2f\n", vector.Dot(vecs[0], vecs[1]))
	// Output:
	// model2vec:tiny-model 4
	// [0.5 0.5 0.5 0.5]
	// similarity 0.50
}

// forwarding is a wrapper that names the provider of what it wraps.
type forwarding struct{ embed.Embedder }

func (f forwarding) Provider() string { return embed.ProviderOf(f.Embedder) }

func TestModel2VecProvider(t *testing.T) {
	m := loadTinyModel(t, "F32")
	if got := embed.ProviderOf(m); got != embed.ProviderModel2Vec {
		t.Errorf("ProviderOf = %q, want %q", got, embed.ProviderModel2Vec)
	}
	if got := embed.ProviderOf(forwarding{forwarding{m}}); got != embed.ProviderModel2Vec {
		t.Errorf("ProviderOf(wrappers that forward, twice) = %q, want %q", got, embed.ProviderModel2Vec)
	}
	if embed.IsLexical(m) {
		t.Error("IsLexical of a Model2Vec model = true")
	}
}
