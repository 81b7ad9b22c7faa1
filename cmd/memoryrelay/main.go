// Command memoryrelay runs and operates a memoryrelay database: the REST API
// server, and the operator's tasks on the database file directly, with no
// server needed.
//
//	memoryrelay serve                       the API on :8000, data in ./memoryrelay.db
//	memoryrelay keys create -name ci -scopes read,write
//	memoryrelay keys list | revoke ID | rotate ID
//	memoryrelay accounts create NAME | list
//	memoryrelay backup PATH                 an online, consistent copy
//	memoryrelay export -o all.jsonl         every account, losslessly (JSON Lines)
//	memoryrelay import all.jsonl            all or nothing
//	memoryrelay reembed -to model2vec:DIR   move the database to another embedder
//	memoryrelay doctor                      check the file, its indexes and the services
//	memoryrelay version
//
// Every subcommand takes -h. Flags may also come from the environment
// (MEMORYRELAY_DB, MEMORYRELAY_EMBEDDER, …: each flag's help names its
// variable); a flag on the command line wins. Exit status: 0 on success, 1
// when the command failed (doctor: found a problem), 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/embed/model2vec"
	"github.com/memoryrelay/memoryrelay/search/embed/openai"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sys := &system{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(exitCode(run(ctx, os.Args[1:], sys), sys.stderr))
}

// system is what a command may touch of the world: the environment and
// the standard streams, replaced in tests.
type system struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	// listening, when not nil, is told each address serve listens on:
	// name "api" or "metrics".
	listening func(name, addr string)
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errReported means the command has said what went wrong already (doctor's
// report): exit 1 without a message. errUsageReported: the flag package
// has printed a bad flag and the usage: exit 2 without a message.
var (
	errReported      = errors.New("reported")
	errUsageReported = errors.New("usage reported")
)

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errReported):
		return 1
	case errors.Is(err, errUsageReported):
		return 2
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "memoryrelay:", err)
		fmt.Fprintln(stderr, "Run 'memoryrelay -h' for the commands.")
		return 2
	}
	// The library's errors start with its name too: say it once.
	fmt.Fprintln(stderr, "memoryrelay:", strings.TrimPrefix(err.Error(), "memoryrelay: "))
	return 1
}

// command is one subcommand: its name, a one-line summary, and what runs it.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, sys *system) error
}

func commands() []command {
	return []command{
		{"serve", "serve the REST API (and the metrics endpoint)", serve},
		{"keys", "create, list, revoke and rotate API keys", keysCmd},
		{"accounts", "create and list accounts", accountsCmd},
		{"backup", "write an online, consistent copy of the database", backup},
		{"export", "write accounts' data as JSON Lines, losslessly", export},
		{"import", "read an export into a database, all or nothing", importCmd},
		{"reembed", "move the database to another embedder, resumably", reembed},
		{"doctor", "check the database file, its indexes and the services", doctor},
		{"version", "print the version", version},
	}
}

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, sys *system) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		w := sys.stderr
		if len(args) > 0 {
			w = sys.stdout // asked for: not an error
		}
		printUsage(w)
		if len(args) == 0 {
			return usagef("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], sys)
		}
	}
	return usagef("unknown command %q", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "memoryrelay runs and operates a memoryrelay database.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: memoryrelay <command> [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'memoryrelay <command> -h' for a command's flags.")
}

// newFlags returns the flag set of a subcommand whose usage line is usage
// and whose longer description is about.
func newFlags(sys *system, name, usage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("memoryrelay "+name, flag.ContinueOnError)
	fs.SetOutput(sys.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: memoryrelay %s\n\n%s\n", usage, strings.TrimSpace(about))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args, letting flags follow the positional arguments
// ("keys revoke ID -account acme"), and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsageReported // the flag package printed it with the usage
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(getenv func(string) string, name string, def int) int {
	if v, err := strconv.Atoi(getenv(name)); err == nil {
		return v
	}
	return def
}

func envFloat(getenv func(string) string, name string, def float64) float64 {
	if v, err := strconv.ParseFloat(getenv(name), 64); err == nil {
		return v
	}
	return def
}

func envBool(getenv func(string) string, name string, def bool) bool {
	if v, err := strconv.ParseBool(getenv(name)); err == nil {
		return v
	}
	return def
}

// dbFlags are the flags of every command that opens the database: the
// file and the embedder it was built with (Open refuses another).
type dbFlags struct {
	path, embedder       string
	embedURL, embedModel string
	embedDim             int
	getenv               func(string) string
}

func addDBFlags(fs *flag.FlagSet, getenv func(string) string) *dbFlags {
	d := &dbFlags{getenv: getenv}
	fs.StringVar(&d.path, "db", envOr(getenv, "MEMORYRELAY_DB", memoryrelay.DefaultPath), "SQLite database file (env MEMORYRELAY_DB)")
	fs.StringVar(&d.embedder, "embedder", envOr(getenv, "MEMORYRELAY_EMBEDDER", "builtin"),
		"the database's embedder: builtin, hash:<dim>, model2vec:<dir> or openai (env MEMORYRELAY_EMBEDDER)")
	addEmbedFlags(fs, getenv, &d.embedURL, &d.embedModel, &d.embedDim)
	return d
}

// addEmbedFlags adds the settings of an OpenAI-compatible embedder.
func addEmbedFlags(fs *flag.FlagSet, getenv func(string) string, url, model *string, dim *int) {
	fs.StringVar(url, "embed-url", getenv("MEMORYRELAY_EMBED_URL"), "openai: the server's base URL, e.g. http://localhost:11434/v1 (env MEMORYRELAY_EMBED_URL; the API key from MEMORYRELAY_EMBED_API_KEY, or OPENAI_API_KEY for api.openai.com)")
	fs.StringVar(model, "embed-model", getenv("MEMORYRELAY_EMBED_MODEL"), "openai: the model (env MEMORYRELAY_EMBED_MODEL)")
	fs.IntVar(dim, "embed-dim", envInt(getenv, "MEMORYRELAY_EMBED_DIM", 0), "openai: the model's dimension (env MEMORYRELAY_EMBED_DIM)")
}

// embedderOf makes the embedder a spec names: builtin, hash:<dim>,
// model2vec:<dir> or openai (with url, model and dim).
func embedderOf(spec, url, model string, dim int, getenv func(string) string) (embed.Embedder, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "builtin":
		if arg == "" {
			return embed.NewHashing(0), nil
		}
	case "hash":
		d, err := strconv.Atoi(arg)
		if err != nil || d <= 0 {
			return nil, usagef("embedder hash:<dim> needs a positive dimension, not %q", arg)
		}
		return embed.NewHashing(d), nil
	case "model2vec":
		if arg == "" {
			return nil, usagef("embedder model2vec:<dir> needs the model's directory")
		}
		return model2vec.Load(arg)
	case "openai":
		if arg == "" {
			return openai.New(openai.Options{BaseURL: url, Model: model, Dimension: dim, APIKey: getenv("MEMORYRELAY_EMBED_API_KEY"), Getenv: getenv})
		}
	}
	return nil, usagef("the embedder must be builtin, hash:<dim>, model2vec:<dir> or openai, not %q", spec)
}

// options returns the Options of the database the flags name. Unless
// create, the file must exist: a typo in -db is an error, not a new empty
// database.
func (d *dbFlags) options(create bool) (memoryrelay.Options, error) {
	emb, err := embedderOf(d.embedder, d.embedURL, d.embedModel, d.embedDim, d.getenv)
	if err != nil {
		return memoryrelay.Options{}, err
	}
	if !create {
		if _, err := os.Stat(d.path); errors.Is(err, fs.ErrNotExist) {
			return memoryrelay.Options{}, fmt.Errorf("no database at %s (give its file with -db or MEMORYRELAY_DB; serve creates one)", d.path)
		}
	}
	return memoryrelay.Options{Path: d.path, Embedder: emb}, nil
}

// openAdmin opens the database for a short administrative task: no v2
// workers (a server on the same file runs the queue) and no in-process
// search index to build.
func (d *dbFlags) openAdmin(ctx context.Context, create bool) (*memoryrelay.Relay, error) {
	opts, err := d.options(create)
	if err != nil {
		return nil, err
	}
	opts.Workers = -1
	opts.ExactSearch = true
	opts.Logger = slog.New(slog.DiscardHandler)
	return memoryrelay.Open(ctx, opts)
}
