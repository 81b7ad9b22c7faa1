package sqlite

import (
	"context"
	"testing"
)

// TestDiagnose: a healthy store passes every check; each kind of
// disagreement made by hand is counted.
func TestDiagnose(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := st.db.W.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("INSERT INTO accounts(id, name, created_at) VALUES ('a', 'a', 1)")
	exec("INSERT INTO agents(id, public_id, account_id, name, created_at, updated_at) VALUES ('g', 'g', 'a', 'g', 1, 1)")
	for seq := 1; seq <= 3; seq++ {
		exec("INSERT INTO memories(seq, id, account_id, agent_id, agent_ref, content, created_at, updated_at) VALUES (?, ?, 'a', 'g', 'g', 'x', 1, 1)", seq, "m"+string(rune('0'+seq)))
		exec("INSERT INTO memory_vectors(seq, embedding) VALUES (?, ?)", seq, vecBlob(1, 0))
		exec("INSERT INTO memory_fts(docid, terms) VALUES (?, 'x')", seq)
	}
	d, err := st.Diagnose(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d.Integrity != nil || d.ForeignKeys != 0 || d.Memories != 3 || d.Vectors != 3 || d.FullText != 3 || d.MissingVectors+d.OrphanVectors+d.MissingFullText+d.OrphanFullText+d.WrongVectors != 0 ||
		d.FeedRows != 3 || d.FeedNewest != 3 || d.FeedOldest != 1 {
		t.Fatalf("healthy: %+v", d)
	}
	exec("DELETE FROM memory_vectors WHERE seq = 1")
	exec("DELETE FROM memory_fts WHERE docid = 2")
	exec("INSERT INTO memory_fts(docid, terms) VALUES (99, 'orphan')")
	exec("UPDATE memory_vectors SET embedding = ? WHERE seq = 3", vecBlob(1, 0, 0))
	exec("PRAGMA foreign_keys = OFF")
	exec("INSERT INTO memory_vectors(seq, embedding) VALUES (77, ?)", vecBlob(0, 1))
	exec("INSERT INTO decisions(id, account_id, title, rationale, embedding, created_at, updated_at) VALUES ('d', 'a', 't', 'r', ?, 1, 1)", vecBlob(1))
	exec("INSERT INTO entities(id, account_id, name, created_at, updated_at) VALUES ('e', 'nobody', 'n', 1, 1)")
	exec("PRAGMA foreign_keys = ON")
	d, err = st.Diagnose(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d.MissingVectors != 1 || d.MissingFullText != 1 || d.OrphanFullText != 1 || d.WrongVectors != 1 || d.OrphanVectors != 1 || d.WrongDecisionVectors != 1 || d.ForeignKeys < 2 {
		t.Fatalf("damaged: %+v", d)
	}
}
