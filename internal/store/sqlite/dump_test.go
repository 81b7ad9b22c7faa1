package sqlite

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
)

// notExported are the tables an export leaves out, and why: each other
// table must be a record type whose fields are exactly its columns, so
// that a table or column added later cannot be dropped from exports
// unnoticed.
var notExported = map[string]string{
	"api_keys":           "secrets of the account, not its data",
	"api_key_secrets":    "secrets",
	"key_usage":          "per-key request counts",
	"jobs":               "the v2 queue: in flight, not data",
	"meta":               "the database's own settings (the embedder is in the header)",
	"memory_vectors":     "in the memory record's vector field",
	"vector_changes":     "the change log, derived",
	"sqlite_sequence":    "SQLite's",
	"webhooks":           "the account's receivers with their signing secrets, like its keys",
	"webhook_events":     "the webhook outbox: in flight, not data",
	"webhook_deliveries": "the webhook outbox: in flight, not data",
	"webhook_attempts":   "the webhook delivery log",
	"extraction_keys":    "secrets, sealed under the server secret of the database's operator",
}

// derivedColumns are columns an export leaves out.
var derivedColumns = map[string]bool{"memories.seq": true}

func TestDumpCoversTheSchema(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	tables, err := queryAll(ctx, st.q(ctx), scanValue[string], "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'memory_fts%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	dumped := map[string]*dumpTable{}
	for i := range dumpTables {
		dumped[dumpTables[i].table] = &dumpTables[i]
	}
	for _, table := range tables {
		dt, ok := dumped[table]
		if _, skip := notExported[table]; skip {
			if ok {
				t.Errorf("%s is both exported and not", table)
			}
			continue
		}
		if !ok {
			t.Errorf("table %s is neither exported nor in notExported", table)
			continue
		}
		columns, err := queryAll(ctx, st.q(ctx), scanValue[string], "SELECT name FROM pragma_table_info(?)", table)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, c := range columns {
			if !derivedColumns[table+"."+c] {
				want = append(want, c)
			}
		}
		var got []string
		for _, c := range dt.cols {
			if c.expr == "" || strings.HasPrefix(c.expr, "t.") {
				got = append(got, c.sqlColumn())
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: exported columns %v, table columns %v", table, got, want)
		}
	}
	for _, typ := range DumpSchema() {
		for _, f := range typ.Fields {
			if f.Name == "type" {
				t.Errorf("%s has a field named type, the record's own key", typ.Name)
			}
		}
	}
}
