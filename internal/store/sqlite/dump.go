package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/dump"
	"github.com/memoryrelay/memoryrelay/internal/store"
)

// Export and import: every row of an account's data, table by table, as
// the records of package dump. Each record type is one table (a memory's
// vector rides in its record), with the table's columns as fields; what
// is derived from them (the full-text rows, the change log) and what is
// not the account's data (keys and their usage, v2 jobs, meta) is left
// out.

// dumpColumn is a field of a record: the column it reads (an expression
// over the table's alias t) and its kind.
type dumpColumn struct {
	name   string
	expr   string // default: "t." + column
	column string // the column an import writes; default name
	kind   dump.Kind
}

func (c *dumpColumn) sqlColumn() string {
	if c.column != "" {
		return c.column
	}
	return c.name
}

// dumpTable is one record type.
type dumpTable struct {
	typ, table string
	cols       []dumpColumn
	from       string // FROM clause, table aliased t; default table + " t"
	account    string // the expression of the row's account
	order      string // ORDER BY: a fixed order, whatever the rowids
}

func cols(spec ...any) []dumpColumn {
	out := make([]dumpColumn, 0, len(spec)/2)
	for i := 0; i < len(spec); i += 2 {
		out = append(out, dumpColumn{name: spec[i].(string), kind: spec[i+1].(dump.Kind)})
	}
	return out
}

// dumpTables are the record types in the order of an export: every row
// after the rows it refers to.
var dumpTables = []dumpTable{
	{typ: "account", table: "accounts", cols: cols("id", dump.Text, "name", dump.Text, "created_at", dump.Time), account: "t.id", order: "t.id"},
	{typ: "agent", table: "agents", cols: cols("id", dump.Text, "public_id", dump.Text, "account_id", dump.Text, "name", dump.Text, "description", dump.Text,
		"config", dump.JSON, "metadata", dump.JSON, "created_at", dump.Time, "updated_at", dump.Time), account: "t.account_id", order: "t.account_id, t.id"},
	{typ: "project", table: "projects", cols: cols("id", dump.Text, "account_id", dump.Text, "slug", dump.Text, "name", dump.Text, "description", dump.Text,
		"stack", dump.JSON, "repo_url", dump.Text, "metadata", dump.JSON, "created_at", dump.Time, "updated_at", dump.Time), account: "t.account_id", order: "t.account_id, t.id"},
	{typ: "project_relationship", table: "project_relationships", cols: cols("id", dump.Text, "account_id", dump.Text, "source_project_id", dump.Text,
		"target_project_id", dump.Text, "relationship_type", dump.Text, "metadata", dump.JSON, "created_at", dump.Time), account: "t.account_id", order: "t.account_id, t.id"},
	{typ: "session", table: "sessions", cols: cols("id", dump.Text, "account_id", dump.Text, "agent_id", dump.Text, "agent_ref", dump.Text, "external_id", dump.Text,
		"project", dump.Text, "status", dump.Text, "title", dump.Text, "summary", dump.Text, "metadata", dump.JSON, "started_at", dump.Time, "ended_at", dump.Time,
		"created_at", dump.Time, "updated_at", dump.Time), account: "t.account_id", order: "t.account_id, t.id"},
	{typ: "memory", table: "memories", cols: append(cols("id", dump.Text, "account_id", dump.Text, "agent_id", dump.Text, "agent_ref", dump.Text, "user_id", dump.Text,
		"content", dump.Text, "metadata", dump.JSON, "memory_type", dump.Text, "visibility", dump.Text, "importance", dump.Real, "tier", dump.Text, "scope", dump.Text,
		"session_id", dump.Text, "project", dump.Text, "project_id", dump.Text, "archived_at", dump.Time, "created_at", dump.Time, "updated_at", dump.Time,
		"extraction_status", dump.Text, "extraction_method", dump.Text, "extraction_model", dump.Text),
		dumpColumn{name: "vector", expr: "v.embedding", kind: dump.Vector}),
		from: "memories t LEFT JOIN memory_vectors v ON v.seq = t.seq", account: "t.account_id", order: "t.account_id, t.id"},
	// The entity's type is entity_type: "type" names the record's type.
	{typ: "entity", table: "entities", cols: slices.Concat(cols("id", dump.Text, "account_id", dump.Text, "agent_id", dump.Text, "agent_ref", dump.Text, "name", dump.Text),
		[]dumpColumn{{name: "entity_type", expr: "t.type", column: "type", kind: dump.Text}},
		cols("metadata", dump.JSON, "created_at", dump.Time, "updated_at", dump.Time)), account: "t.account_id", order: "t.account_id, t.id"},
	{typ: "entity_link", table: "entity_links", cols: cols("entity_id", dump.Text, "memory_id", dump.Text, "relationship", dump.Text, "created_at", dump.Time, "confidence", dump.Real),
		from: "entity_links t JOIN entities e ON e.id = t.entity_id", account: "e.account_id", order: "e.account_id, t.entity_id, t.memory_id"},
	{typ: "decision", table: "decisions", cols: cols("id", dump.Text, "account_id", dump.Text, "agent_id", dump.Text, "agent_ref", dump.Text, "session_id", dump.Text,
		"project_slug", dump.Text, "title", dump.Text, "rationale", dump.Text, "alternatives", dump.Text, "status", dump.Text, "superseded_by", dump.Text,
		"tags", dump.JSON, "metadata", dump.JSON, "embedding", dump.Vector, "created_at", dump.Time, "updated_at", dump.Time), account: "t.account_id", order: "t.account_id, t.id"},
	{typ: "pattern", table: "patterns", cols: cols("id", dump.Text, "account_id", dump.Text, "title", dump.Text, "description", dump.Text, "category", dump.Text,
		"example_code", dump.Text, "scope", dump.Text, "tags", dump.JSON, "source_project_id", dump.Text, "source_project_slug", dump.Text, "metadata", dump.JSON,
		"adoption_count", dump.Int, "embedding", dump.Vector, "created_at", dump.Time, "updated_at", dump.Time), account: "t.account_id", order: "t.account_id, t.id"},
	{typ: "pattern_adoption", table: "pattern_adoptions", cols: cols("pattern_id", dump.Text, "project_id", dump.Text, "created_at", dump.Time),
		from: "pattern_adoptions t JOIN patterns p ON p.id = t.pattern_id", account: "p.account_id", order: "p.account_id, t.pattern_id, t.project_id"},
}

// DumpSchema is the record types of an export of this store, in the order
// an export holds them.
func DumpSchema() dump.Schema {
	out := make(dump.Schema, len(dumpTables))
	for i, t := range dumpTables {
		out[i] = dump.Type{Name: t.typ, Fields: make([]dump.Field, len(t.cols))}
		for j, c := range t.cols {
			out[i].Fields[j] = dump.Field{Name: c.name, Kind: c.kind}
		}
	}
	return out
}

func (t *dumpTable) fromClause() string {
	if t.from != "" {
		return t.from
	}
	return t.table + " t"
}

// where is the account condition of t's rows and its arguments; all
// accounts when ids is nil.
func (t *dumpTable) where(ids []string) (string, []any) {
	if ids == nil {
		return "1", nil
	}
	in, args := inList(ids)
	return t.account + " IN " + in, args
}

// Export reads, from one snapshot, the accounts with the ids (every
// account when ids is nil; an unknown id is store.ErrNotFound) and all
// their rows: it calls begin once with the accounts' ids, in order, and the
// number of records of each type, then emit with each record, in
// DumpSchema's order and, within a type, by account and id.
func (s *Store) Export(ctx context.Context, ids []string, begin func(accounts []string, counts map[string]int64) error, emit func(dump.Record) error) error {
	return s.read(ctx, func(q queryer) error {
		accounts, err := queryAll(ctx, q, scanValue[string], "SELECT id FROM accounts ORDER BY id")
		if err != nil {
			return err
		}
		if ids != nil {
			known := map[string]bool{}
			for _, a := range accounts {
				known[a] = true
			}
			for _, id := range ids {
				if !known[id] {
					return fmt.Errorf("account %s: %w", id, store.ErrNotFound)
				}
			}
			accounts = uniqueSorted(ids)
		}
		counts := map[string]int64{}
		for i := range dumpTables {
			t := &dumpTables[i]
			cond, args := t.where(accounts)
			n, err := queryValue[int64](ctx, q, "SELECT count(*) FROM "+t.fromClause()+" WHERE "+cond, args...)
			if err != nil {
				return err
			}
			counts[t.typ] = n
		}
		if err := begin(accounts, counts); err != nil {
			return err
		}
		for i := range dumpTables {
			if err := exportTable(ctx, q, &dumpTables[i], accounts, emit); err != nil {
				return fmt.Errorf("export %s: %w", dumpTables[i].table, err)
			}
		}
		return nil
	})
}

func uniqueSorted(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	// A fixed order, as with every account.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func exportTable(ctx context.Context, q queryer, t *dumpTable, accounts []string, emit func(dump.Record) error) error {
	exprs := make([]string, len(t.cols))
	for i, c := range t.cols {
		exprs[i] = c.expr
		if exprs[i] == "" {
			exprs[i] = "t." + c.sqlColumn()
		}
	}
	cond, args := t.where(accounts)
	query := "SELECT " + strings.Join(exprs, ", ") + " FROM " + t.fromClause() + " WHERE " + cond + " ORDER BY " + t.order
	return queryEach(ctx, q, func(r rowScanner) error {
		holders := make([]any, len(t.cols))
		for i, c := range t.cols {
			switch c.kind {
			case dump.Text, dump.JSON:
				holders[i] = new(sql.NullString)
			case dump.Int, dump.Time:
				holders[i] = new(sql.NullInt64)
			case dump.Real:
				holders[i] = new(sql.NullFloat64)
			case dump.Vector:
				holders[i] = new([]byte)
			}
		}
		if err := r.Scan(holders...); err != nil {
			return err
		}
		rec := dump.Record{Type: t.typ, Values: make([]any, len(t.cols))}
		for i, h := range holders {
			switch h := h.(type) {
			case *sql.NullString:
				if h.Valid {
					if t.cols[i].kind == dump.JSON {
						rec.Values[i] = json.RawMessage(h.String)
					} else {
						rec.Values[i] = h.String
					}
				}
			case *sql.NullInt64:
				if h.Valid {
					rec.Values[i] = h.Int64
				}
			case *sql.NullFloat64:
				if h.Valid {
					rec.Values[i] = h.Float64
				}
			case *[]byte:
				if *h != nil {
					// Exports hold float32s, whatever the encoding here.
					b, err := FloatBlob(*h)
					if err != nil {
						return fmt.Errorf("%s: a stored vector of %d bytes: %w", t.typ, len(*h), err)
					}
					rec.Values[i] = b
				}
			}
		}
		return emit(rec)
	}, query, args...)
}

// ImportStats counts the records an import wrote, by type.
type ImportStats map[string]int64

// Import writes the records next returns (until io.EOF) in one
// transaction: all of them or, on any error, none. Each row keeps its id
// and times; a memory's full-text row is made of terms(content) and its
// vector row of its record's vector. accounts are the ids the export
// declares: a record of another account is refused. A row that exists
// already (an id taken: the export was imported before) fails the import
// with dump.ErrExists, naming it.
//
// meta is stored in the same transaction, replacing what the keys held
// (the embedder of a new database, say).
func (s *Store) Import(ctx context.Context, accounts []string, meta map[string]string, next func() (dump.Record, error), terms func(content string) string) (ImportStats, error) {
	declared := map[string]bool{}
	for _, a := range accounts {
		declared[a] = true
	}
	byType := map[string]*dumpTable{}
	for i := range dumpTables {
		byType[dumpTables[i].typ] = &dumpTables[i]
	}
	stats := ImportStats{}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmts := map[string]*sql.Stmt{}
		defer func() {
			for _, st := range stmts {
				st.Close()
			}
		}()
		for k, v := range meta {
			if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", k, v); err != nil {
				return err
			}
		}
		prepare := func(key, query string) (*sql.Stmt, error) {
			if st, ok := stmts[key]; ok {
				return st, nil
			}
			st, err := tx.PrepareContext(ctx, query)
			if err != nil {
				return nil, err
			}
			stmts[key] = st
			return st, nil
		}
		for {
			rec, err := next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			t, ok := byType[rec.Type]
			if !ok || len(rec.Values) != len(t.cols) {
				return fmt.Errorf("import: a %q record this store does not know", rec.Type)
			}
			if err := importRecord(ctx, s.enc, prepare, t, rec, declared, terms); err != nil {
				return fmt.Errorf("%s %s: %w", rec.Type, recordID(t, rec), err)
			}
			stats[rec.Type]++
		}
	})
	if err != nil {
		return nil, err
	}
	return stats, nil
}

// recordID names a record in errors: its id or, for a link, the ids it
// links.
func recordID(t *dumpTable, rec dump.Record) string {
	var parts []string
	for i, c := range t.cols {
		s, _ := rec.Values[i].(string)
		switch {
		case c.name == "id":
			return s
		case c.kind == dump.Text && len(parts) < 2:
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "/")
}

func importRecord(ctx context.Context, enc string, prepare func(key, query string) (*sql.Stmt, error), t *dumpTable, rec dump.Record, declared map[string]bool, terms func(string) string) error {
	var names, marks []string
	var args []any
	var content string
	var vec []byte
	for i, c := range t.cols {
		v := rec.Values[i]
		switch {
		case c.name == "vector":
			vec, _ = v.([]byte)
			continue
		case c.name == "account_id" || (t.typ == "account" && c.name == "id"):
			if a, _ := v.(string); !declared[a] {
				return fmt.Errorf("account %q is not one the export declares", a)
			}
		case t.typ == "memory" && c.name == "content":
			content, _ = v.(string)
		}
		if raw, ok := v.(json.RawMessage); ok {
			v = string(raw)
		}
		names = append(names, c.sqlColumn())
		marks = append(marks, "?")
		args = append(args, v)
	}
	st, err := prepare(t.typ, "INSERT INTO "+t.table+"("+strings.Join(names, ", ")+") VALUES ("+strings.Join(marks, ", ")+")")
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return classifyImport(err)
	}
	if t.typ != "memory" {
		return nil
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if vec != nil {
		vs, err := prepare("memory_vector", "INSERT INTO memory_vectors(seq, embedding) VALUES (?, ?)")
		if err != nil {
			return err
		}
		if v, err := DecodeVector(vec); err == nil { // in this store's encoding
			vec = encodeVector(enc, v)
		}
		if _, err := vs.ExecContext(ctx, seq, vec); err != nil {
			return err
		}
	}
	fs, err := prepare("memory_fts", "INSERT INTO memory_fts(docid, terms) VALUES (?, ?)")
	if err != nil {
		return err
	}
	_, err = fs.ExecContext(ctx, seq, terms(content))
	return err
}

// classifyImport words a failed insert: a taken id is a conflict, a
// reference to a row that is not there a foreign key error, a missing
// required field a validation problem of the export.
func classifyImport(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "PRIMARY KEY"):
		return fmt.Errorf("%w (%s): was this export imported before?", dump.ErrExists, msg)
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return fmt.Errorf("refers to a row the export does not hold: %w", store.ErrForeignKey)
	case strings.Contains(msg, "NOT NULL constraint failed"):
		return fmt.Errorf("a required field is null (%s)", msg)
	}
	return err
}

// Accounts lists every account, oldest first (those created in the same
// millisecond in the order they were created).
func (s *Store) Accounts(ctx context.Context) ([]store.Account, error) {
	return queryAll(ctx, s.q(ctx), scanAccount, "SELECT id, name, created_at FROM accounts ORDER BY created_at, rowid")
}
