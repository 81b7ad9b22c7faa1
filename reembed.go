package memoryrelay

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// reembedStore is the storage Reembed rewrites the vectors of.
type reembedStore interface {
	Meta(ctx context.Context, key string) (string, bool, error)
	MetaKeys(ctx context.Context, prefix string) ([]string, error)
	SetEmbeddings(ctx context.Context, table string, rowIDs []int64, vectors [][]float32, checkpoint string) error
	SetMeta(ctx context.Context, key, value string) error
	FinishMeta(ctx context.Context, key, value string, drop ...string) error
	TextsAfter(ctx context.Context, table string, after int64, limit int) ([]store.TextRow, error)
	Close() error
}

// ErrReembedding is returned by Open while a re-embedding of the database
// is unfinished: its vectors are a mix of two models. Run Reembed again to
// finish it.
var ErrReembedding = errors.New("memoryrelay: a re-embedding of this database is unfinished")

// DefaultReembedBatch is how many texts Reembed embeds per call and commits
// per transaction.
const DefaultReembedBatch = 256

// Meta keys of a re-embedding.
const (
	metaEmbedder       = "embedder"
	metaReembedTarget  = "reembed:target"
	metaReembedPrefix  = "reembed:"
	metaReembedDoneFmt = "reembed:done:%s"
)

// ReembedProgress reports how far a re-embedding is.
type ReembedProgress struct {
	Table string // memories, decisions or patterns
	Done  int    // rows re-embedded in this call so far, all tables
	From  string // the embedder the database had
	To    string // the embedder it is moving to
}

func embedderID(e embed.Embedder) string {
	return e.Model() + "/" + strconv.Itoa(e.Dimension())
}

// Reembed moves the database at opts.Path to the embedder opts.Embedder:
// it re-embeds every memory, decision and pattern in batches of batch
// (DefaultReembedBatch when 0), each committed with a checkpoint, and then
// records the new embedder, after which Open accepts only it. It is
// resumable: interrupted (cancelled, crashed), it leaves the database
// refusing Open with ErrReembedding, and a second call with the same
// embedder continues after the last committed batch. progress, when not
// nil, is called after each batch. The database must not be open
// elsewhere for writing meanwhile (new memories would get the old model's
// vectors).
func Reembed(ctx context.Context, opts Options, batch int, progress func(ReembedProgress)) (ReembedProgress, error) {
	if opts.Embedder == nil {
		return ReembedProgress{}, errors.New("memoryrelay: Reembed needs Options.Embedder, the new embedder")
	}
	if batch <= 0 {
		batch = DefaultReembedBatch
	}
	if err := opts.fill(); err != nil {
		return ReembedProgress{}, err
	}
	opened, err := openStorage(ctx, opts)
	if err != nil {
		return ReembedProgress{}, fmt.Errorf("memoryrelay: open %s: %w", opts.database(), err)
	}
	var st reembedStore = opened
	defer st.Close()
	to := embedderID(opts.Embedder)
	from, _, err := st.Meta(ctx, metaEmbedder)
	if err != nil {
		return ReembedProgress{}, err
	}
	p := ReembedProgress{From: from, To: to}
	target, ok, err := st.Meta(ctx, metaReembedTarget)
	if err != nil {
		return p, err
	}
	switch {
	case ok && target != to:
		return p, fmt.Errorf("%w: it moves to %s, not %s", ErrReembedding, target, to)
	case !ok && from == to:
		return p, nil // nothing to do
	case !ok:
		if err := st.SetMeta(ctx, metaReembedTarget, to); err != nil {
			return p, err
		}
	}
	for _, table := range store.Embedded {
		p.Table = table
		key := fmt.Sprintf(metaReembedDoneFmt, table)
		v, _, err := st.Meta(ctx, key)
		if err != nil {
			return p, err
		}
		after, _ := strconv.ParseInt(v, 10, 64)
		for {
			rows, err := st.TextsAfter(ctx, table, after, batch)
			if err != nil {
				return p, err
			}
			if len(rows) == 0 {
				break
			}
			texts := make([]string, len(rows))
			ids := make([]int64, len(rows))
			for i, r := range rows {
				texts[i], ids[i] = r.Text, r.RowID
			}
			vecs, err := opts.Embedder.Embed(ctx, texts)
			if err != nil {
				return p, fmt.Errorf("memoryrelay: reembed %s: %w", table, err)
			}
			if len(vecs) != len(texts) {
				return p, fmt.Errorf("memoryrelay: reembed %s: %w: %d vectors for %d texts", table, vector.ErrInvalid, len(vecs), len(texts))
			}
			for i, v := range vecs {
				if err := vector.Check(v, opts.Embedder.Dimension()); err != nil {
					return p, fmt.Errorf("memoryrelay: reembed %s row %d: %w", table, ids[i], err)
				}
			}
			if err := st.SetEmbeddings(ctx, table, ids, vecs, key); err != nil {
				return p, err
			}
			after = ids[len(ids)-1]
			p.Done += len(rows)
			if progress != nil {
				progress(p)
			}
		}
	}
	keys, err := st.MetaKeys(ctx, metaReembedPrefix)
	if err != nil {
		return p, err
	}
	if err := st.FinishMeta(ctx, metaEmbedder, to, keys...); err != nil {
		return p, err
	}
	return p, nil
}
