package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// TestEncodeVectorInt8Embeddings: every embedding of the built-in
// embedder (and random Gaussian vectors) is kept as int8, Dim+8 bytes, and
// decodes to a vector that the index recognises as its own int8 code (so
// it is rescored in memory), within 0.004 of the float32's cosine with
// another embedding.
func TestEncodeVectorInt8Embeddings(t *testing.T) {
	emb := embed.NewHashing(0)
	texts := make([]string, 2000)
	for i := range texts {
		texts[i] = fmt.Sprintf("memory %d about topic %d and the %d-th thing the user said on day %d", i, i%37, i*7, i%365)
	}
	vecs, err := emb.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		v := make([]float32, 384)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		vecs = append(vecs, v)
	}
	for i, v := range vecs {
		b := sqlite.EncodeVectorInt8(v)
		if len(b) != len(v)+8 {
			t.Fatalf("vector %d kept in %d bytes, want %d (int8)", i, len(b), len(v)+8)
		}
		d, err := sqlite.DecodeVector(b)
		if err != nil {
			t.Fatal(err)
		}
		if q, _, err := vector.Int8Code(d); err != nil || string(int8Bytes(q)) != string(b[8:]) {
			t.Fatalf("vector %d: the decoded vector's code differs from the stored one", i)
		}
		o := vecs[(i+1)%len(vecs)]
		if diff := vector.Cosine(d, o) - vector.Cosine(v, o); diff > 0.004 || diff < -0.004 {
			t.Fatalf("vector %d: cosine moved by %v", i, diff)
		}
	}
}

func int8Bytes(q []int8) []byte {
	b := make([]byte, len(q))
	for i, c := range q {
		b[i] = byte(c)
	}
	return b
}
