package model2vec

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/search/embed"
)

// ErrFormat means a model's files are malformed, or use a feature
// this package does not support: a truncated or inconsistent safetensors
// file, an unknown tensor dtype, a tokenizer model other than WordPiece,
// and so on. The error text says which file and what is wrong.
var ErrFormat = errors.New("model2vec: bad model")

// Model is an offline [embed.Embedder] for model2vec static embedding
// models (https://github.com/MinishLab/model2vec), such as
// minishlab/potion-base-8M: a text's vector is the mean of the vectors
// of its tokens, L2-normalised. It needs no network and no GPU, and
// embeds thousands of short texts per second per core; it captures
// meaning (synonyms, paraphrases) far better than [embed.Hashing], and less
// well than the transformer it was distilled from.
//
// It matches model2vec's StaticModel.encode with its defaults: no special
// tokens, the unknown token dropped from the mean, texts cut to their
// first 512 tokens (and, before tokenizing, to 512 times the median
// length of the vocabulary's tokens, in characters). Vectors are always
// L2-normalised, whatever config.json's "normalize" says; normalising
// does not change cosine similarities.
//
// A text with no tokens (empty, only whitespace, or only words the
// vocabulary cannot spell) gets a vector of zeros, as in model2vec. That
// is the one exception to [embed.Embedder]'s unit-length rule: vector.Check
// rejects it (package [github.com/memoryrelay/memoryrelay/search/vector]),
// so such a text cannot be stored with a vector.
//
// Create one with [Load]. A Model is immutable and safe for
// concurrent use.
type Model struct {
	tok       *Tokenizer
	vectors   []float32 // rows × dim, row-major
	dim       int
	model     string
	maxTokens int // tokens kept per text
	maxChars  int // characters kept per text before tokenizing; 0 means all
}

// model2vecMaxTokens is model2vec's default max_length for encode.
const model2vecMaxTokens = 512

// Load loads the model2vec model in directory dir, as saved by
// model2vec's save_pretrained or downloaded from the Hugging Face hub:
//
//   - tokenizer.json: a Hugging Face tokenizer; see [Tokenizer] for the
//     supported subset (the WordPiece tokenizers of BERT-derived models
//     such as potion-base-8M);
//   - model.safetensors: one 2-D tensor of shape [vocabulary, dimension],
//     named "embeddings" (or the file's only tensor), of dtype F32, F16
//     or BF16 (converted to float32);
//   - config.json: optional; if present it must be a JSON object. Its
//     settings are not needed.
//
// The model id ([Model.Model]) is "model2vec:" followed by the base
// name of dir, for example "model2vec:potion-base-8M": name the directory
// after the model, and give it a new name when its files change, because
// the database keeps vectors only as long as the id is the same.
//
// Load reads both files completely into memory: about
// vocabulary × dimension × 4 bytes (30 MB for potion-base-8M). It returns
// an error matching [fs.ErrNotExist] if a required file is missing, and
// one matching [ErrFormat] if a file is malformed, unsupported or
// inconsistent (a token id with no row in the tensor, a NaN or ±Inf in
// the tensor).
func Load(dir string) (*Model, error) {
	tok, err := loadTokenizer(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	stPath := filepath.Join(dir, "model.safetensors")
	vectors, rows, dim, err := readSafetensorsEmbeddings(stPath)
	if err != nil {
		return nil, err
	}
	for token, id := range tok.vocab {
		if id >= rows {
			return nil, fmt.Errorf("%w: %s: token %q has id %d but the embeddings have %d rows",
				ErrFormat, stPath, token, id, rows)
		}
	}
	cfgPath := filepath.Join(dir, "config.json")
	switch data, err := os.ReadFile(cfgPath); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("model2vec: %w", err)
	default:
		var cfg map[string]any
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrFormat, cfgPath, err)
		}
	}
	name := filepath.Base(dir)
	if abs, err := filepath.Abs(dir); err == nil {
		name = filepath.Base(abs)
	}
	m := &Model{
		tok:       tok,
		vectors:   vectors,
		dim:       dim,
		model:     "model2vec:" + name,
		maxTokens: model2vecMaxTokens,
	}
	if med := medianTokenChars(tok.vocab); med > 0 {
		m.maxChars = model2vecMaxTokens * med
	}
	return m, nil
}

// medianTokenChars returns the median length in characters of the
// vocabulary's tokens, rounded down, as model2vec computes it
// (int(np.median(...))).
func medianTokenChars(vocab map[string]int) int {
	lens := make([]int, 0, len(vocab))
	for tok := range vocab {
		lens = append(lens, utf8.RuneCountInString(tok))
	}
	if len(lens) == 0 {
		return 0
	}
	slices.Sort(lens)
	n := len(lens)
	if n%2 == 1 {
		return lens[n/2]
	}
	return (lens[n/2-1] + lens[n/2]) / 2
}

// Model returns "model2vec:" followed by the base name of the model's
// directory, for example "model2vec:potion-base-8M".
func (m *Model) Model() string { return m.model }

// Dimension returns the length of the vectors m returns: the second
// dimension of the embedding tensor.
func (m *Model) Dimension() int { return m.dim }

// Provider returns [embed.ProviderModel2Vec].
func (m *Model) Provider() string { return embed.ProviderModel2Vec }

// Embed returns one vector per text: the mean of its tokens' vectors,
// L2-normalised, or all zeros for a text with no tokens (see
// [Model]). It checks ctx before each text and fails only if ctx is
// done, returning no vectors.
func (m *Model) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	sum := make([]float64, m.dim)
	var ids []int
	for i, text := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ids = m.tokens(ids[:0], text)
		clear(sum)
		for _, id := range ids {
			row := m.vectors[id*m.dim : (id+1)*m.dim]
			for j, x := range row {
				sum[j] += float64(x)
			}
		}
		// The mean's direction is the sum's: normalise the sum.
		var norm float64
		for _, x := range sum {
			norm += x * x
		}
		v := make([]float32, m.dim)
		if norm > 0 {
			scale := 1 / math.Sqrt(norm)
			for j, x := range sum {
				v[j] = float32(x * scale)
			}
		}
		out[i] = v
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// tokens appends the ids whose rows make up text's vector: text cut to
// maxChars characters, tokenized, the unknown token dropped, cut to
// maxTokens ids.
func (m *Model) tokens(dst []int, text string) []int {
	if m.maxChars > 0 && len(text) > m.maxChars {
		n := 0
		for i := range text {
			if n == m.maxChars {
				text = text[:i]
				break
			}
			n++
		}
	}
	dst = m.tok.appendIDs(dst, text)
	if unk := m.tok.unk; unk >= 0 {
		dst = slices.DeleteFunc(dst, func(id int) bool { return id == unk })
	}
	if len(dst) > m.maxTokens {
		dst = dst[:m.maxTokens]
	}
	return dst
}

// safetensors format limits.
const (
	// stMaxHeader is the largest header the reference implementation
	// accepts, in bytes.
	stMaxHeader = 100_000_000
	// stChunk is how many bytes of tensor data are converted at a time.
	stChunk = 1 << 16
)

// stTensor is one tensor's entry in a safetensors header.
type stTensor struct {
	name       string
	dtype      string
	shape      []uint64
	begin, end uint64 // byte offsets into the data section
}

// stDtypeSize returns the size in bytes of one element of a safetensors
// dtype, or 0 if the dtype is unknown.
func stDtypeSize(dtype string) uint64 {
	switch dtype {
	case "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2":
		return 1
	case "U16", "I16", "F16", "BF16":
		return 2
	case "U32", "I32", "F32":
		return 4
	case "U64", "I64", "F64":
		return 8
	}
	return 0
}

// parseSafetensorsHeader parses and checks the JSON header of a
// safetensors file whose data section is dataLen bytes: every tensor has
// a known dtype, a shape whose size matches its byte range, and the
// ranges tile the data section without gaps or overlaps. Tensors are
// returned in data order.
func parseSafetensorsHeader(header []byte, dataLen uint64) ([]stTensor, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("header is not a JSON object")
	}
	tensors := make([]stTensor, 0, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var info struct {
			Dtype       string   `json:"dtype"`
			Shape       []uint64 `json:"shape"`
			DataOffsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &info); err != nil {
			return nil, fmt.Errorf("tensor %q: %v", name, err)
		}
		size := stDtypeSize(info.Dtype)
		if size == 0 {
			return nil, fmt.Errorf("tensor %q: unknown dtype %q", name, info.Dtype)
		}
		if info.Shape == nil {
			return nil, fmt.Errorf("tensor %q: no shape", name)
		}
		if len(info.DataOffsets) != 2 {
			return nil, fmt.Errorf("tensor %q: data_offsets has %d elements, want 2", name, len(info.DataOffsets))
		}
		n := size
		for _, d := range info.Shape {
			hi, lo := bits.Mul64(n, d)
			if hi != 0 {
				return nil, fmt.Errorf("tensor %q: shape %v is too large", name, info.Shape)
			}
			n = lo
		}
		begin, end := info.DataOffsets[0], info.DataOffsets[1]
		if begin > end || end > dataLen {
			return nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] outside the %d bytes of data", name, begin, end, dataLen)
		}
		if end-begin != n {
			return nil, fmt.Errorf("tensor %q: %s shape %v needs %d bytes, data_offsets give %d",
				name, info.Dtype, info.Shape, n, end-begin)
		}
		tensors = append(tensors, stTensor{name: name, dtype: info.Dtype, shape: info.Shape, begin: begin, end: end})
	}
	slices.SortFunc(tensors, func(a, b stTensor) int {
		if a.begin != b.begin {
			return cmpUint64(a.begin, b.begin)
		}
		if a.end != b.end {
			return cmpUint64(a.end, b.end)
		}
		return strings.Compare(a.name, b.name)
	})
	var at uint64
	for _, t := range tensors {
		if t.begin != at {
			return nil, fmt.Errorf("tensor %q: data starts at byte %d, want %d (tensors must tile the data)", t.name, t.begin, at)
		}
		at = t.end
	}
	if at != dataLen {
		return nil, fmt.Errorf("tensors cover %d of the %d bytes of data", at, dataLen)
	}
	return tensors, nil
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readSafetensorsEmbeddings reads the embedding tensor of the
// safetensors file at path, converted to float32.
func readSafetensorsEmbeddings(path string) (vectors []float32, rows, dim int, err error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrFormat, path, fmt.Sprintf(format, args...))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("model2vec: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("model2vec: %w", err)
	}
	size := fi.Size()
	if size < 8 {
		return nil, 0, 0, bad("%d bytes is too short for a safetensors file", size)
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return nil, 0, 0, bad("reading header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) || n > stMaxHeader {
		return nil, 0, 0, bad("header length %d exceeds the file (%d bytes) or the %d-byte limit", n, size, stMaxHeader)
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return nil, 0, 0, bad("reading header: %v", err)
	}
	dataStart := 8 + int64(n)
	tensors, err := parseSafetensorsHeader(header, uint64(size-dataStart))
	if err != nil {
		return nil, 0, 0, bad("%v", err)
	}

	var emb *stTensor
	for i := range tensors {
		if tensors[i].name == "embeddings" {
			emb = &tensors[i]
		}
	}
	switch {
	case emb == nil && len(tensors) == 1:
		emb = &tensors[0]
	case emb == nil && len(tensors) == 0:
		return nil, 0, 0, bad("no tensors")
	case emb == nil:
		return nil, 0, 0, bad("%d tensors and none named \"embeddings\"", len(tensors))
	}
	for _, t := range tensors {
		if t.name != emb.name {
			return nil, 0, 0, bad("unexpected tensor %q besides %q: only models with a single embedding tensor are supported", t.name, emb.name)
		}
	}
	if len(emb.shape) != 2 || emb.shape[0] == 0 || emb.shape[1] == 0 {
		return nil, 0, 0, bad("tensor %q has shape %v, want [vocabulary, dimension]", emb.name, emb.shape)
	}
	var decode func(b []byte) float32
	switch emb.dtype {
	case "F32":
		decode = func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }
	case "F16":
		decode = func(b []byte) float32 { return float16ToFloat32(binary.LittleEndian.Uint16(b)) }
	case "BF16":
		decode = func(b []byte) float32 { return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16) }
	default:
		return nil, 0, 0, bad("tensor %q has dtype %s; supported: F32, F16, BF16", emb.name, emb.dtype)
	}
	count := emb.shape[0] * emb.shape[1] // no overflow: checked against the file size
	if count > math.MaxInt/4 || emb.shape[1] > math.MaxInt32 {
		return nil, 0, 0, bad("tensor %q shape %v is too large", emb.name, emb.shape)
	}
	rows, dim = int(emb.shape[0]), int(emb.shape[1])
	esize := int(stDtypeSize(emb.dtype))

	vectors = make([]float32, count)
	r := io.NewSectionReader(f, dataStart+int64(emb.begin), int64(emb.end-emb.begin))
	buf := make([]byte, stChunk-stChunk%esize)
	for i := 0; i < len(vectors); {
		want := min(len(buf), (len(vectors)-i)*esize)
		if _, err := io.ReadFull(r, buf[:want]); err != nil {
			return nil, 0, 0, bad("reading tensor %q: %v", emb.name, err)
		}
		for off := 0; off < want; off, i = off+esize, i+1 {
			x := decode(buf[off : off+esize])
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, 0, 0, bad("tensor %q holds %v at row %d", emb.name, x, i/dim)
			}
			vectors[i] = x
		}
	}
	return vectors, rows, dim, nil
}

// float16ToFloat32 converts an IEEE 754 half-precision number, including
// subnormals, infinities and NaN.
func float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1F
	frac := uint32(h) & 0x3FF
	switch {
	case exp == 0x1F: // Inf or NaN
		return math.Float32frombits(sign | 0xFF<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal: frac × 2^-24, exact in float32.
	x := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		x = -x
	}
	return x
}
