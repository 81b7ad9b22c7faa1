// Command reembed moves a memoryrelay database to another embedder,
// re-embedding every memory, decision and pattern. It is resumable: run it
// again after an interruption and it continues where it stopped. Stop the
// server using the database first.
//
//	go run ./examples/reembed -db memoryrelay.db -to hash:768
//	go run ./examples/reembed -db memoryrelay.db -to model2vec:/models/potion-base-8M
//	OPENAI_API_KEY=… go run ./examples/reembed -db memoryrelay.db -to openai \
//	    -base-url https://api.openai.com/v1 -model text-embedding-3-small -dim 1536
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/embed/model2vec"
	"github.com/memoryrelay/memoryrelay/search/embed/openai"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reembed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("reembed", flag.ContinueOnError)
	db := fs.String("db", memoryrelay.DefaultPath, "database file")
	to := fs.String("to", "", "new embedder: hash:<dim>, model2vec:<dir> or openai")
	baseURL := fs.String("base-url", "", "openai: the server's base URL, e.g. http://localhost:11434/v1")
	model := fs.String("model", "", "openai: the model")
	dim := fs.Int("dim", 0, "openai: the model's dimension")
	batch := fs.Int("batch", memoryrelay.DefaultReembedBatch, "texts per batch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	emb, err := embedder(*to, *baseURL, *model, *dim)
	if err != nil {
		return err
	}
	p, err := memoryrelay.Reembed(ctx, memoryrelay.Options{Path: *db, Embedder: emb}, *batch, func(p memoryrelay.ReembedProgress) {
		fmt.Fprintf(out, "\r%s: %d re-embedded", p.Table, p.Done)
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(out, "\ninterrupted; run again to continue")
		}
		return err
	}
	if p.Done == 0 && p.From == p.To {
		fmt.Fprintf(out, "%s already uses %s\n", *db, p.To)
		return nil
	}
	fmt.Fprintf(out, "\n%s now uses %s (was %s)\n", *db, p.To, p.From)
	return nil
}

func embedder(spec, baseURL, model string, dim int) (embed.Embedder, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "hash":
		d, err := strconv.Atoi(arg)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("-to hash:<dim> needs a positive dimension")
		}
		return embed.NewHashing(d), nil
	case "model2vec":
		return model2vec.Load(arg)
	case "openai":
		return openai.New(openai.Options{BaseURL: baseURL, Model: model, Dimension: dim})
	}
	return nil, fmt.Errorf("-to must be hash:<dim>, model2vec:<dir> or openai, not %q", spec)
}
