package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/progress"
)

const reembedAbout = `
Move the database to another embedder: re-embed every memory, decision and
pattern with the embedder -to names, in batches, each committed, then record
it as the database's embedder (from then on give it to every command with
-embedder or MEMORYRELAY_EMBEDDER). Resumable: interrupted (Ctrl-C, a crash),
it leaves the database refusing to open until it is run again with the same
-to, which continues after the last committed batch. Stop the server first:
memories it stored meanwhile would get the old model's vectors.

  memoryrelay reembed -to hash:768
  memoryrelay reembed -to model2vec:/models/potion-base-8M
  memoryrelay reembed -to openai -embed-url http://localhost:11434/v1 -embed-model nomic-embed-text -embed-dim 768`

func reembed(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "reembed", "reembed -to EMBEDDER [flags]", reembedAbout)
	path := fs.String("db", envOr(sys.getenv, "MEMORYRELAY_DB", memoryrelay.DefaultPath), "SQLite database file (env MEMORYRELAY_DB)")
	to := fs.String("to", "", "the new embedder: builtin, hash:<dim>, model2vec:<dir> or openai (required)")
	var url, model string
	var dim int
	addEmbedFlags(fs, sys.getenv, &url, &model, &dim)
	batch := fs.Int("batch", memoryrelay.DefaultReembedBatch, "texts per batch (each batch is one commit)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("reembed takes no arguments, got %q", rest)
	}
	if *to == "" {
		return usagef("reembed needs -to, the new embedder")
	}
	if *batch <= 0 {
		return usagef("-batch must be positive")
	}
	d := &dbFlags{path: *path, embedder: *to, embedURL: url, embedModel: model, embedDim: dim, getenv: sys.getenv}
	opts, err := d.options(false)
	if err != nil {
		return err
	}
	meter := progress.New(sys.stderr, "reembed", 0, progress.Options{Unit: "texts"})
	p, err := memoryrelay.Reembed(ctx, opts, *batch, func(p memoryrelay.ReembedProgress) {
		meter.SetLabel("reembed " + p.Table)
		meter.Set(int64(p.Done))
	})
	if p.Done > 0 {
		meter.Done()
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(sys.stderr, "Interrupted: run the same command again to continue.")
		}
		return err
	}
	if p.Done == 0 && p.From == p.To {
		fmt.Fprintf(sys.stdout, "%s already uses %s.\n", *path, p.To)
		return nil
	}
	fmt.Fprintf(sys.stdout, "%s now uses %s (was %s); %d texts re-embedded.\n", *path, p.To, p.From, p.Done)
	return nil
}
