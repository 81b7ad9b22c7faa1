package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
)

// quickCheckErrors is how many problems quick_check reports at most; it
// stops looking once it has found them.
const quickCheckErrors = 10

// quickCheck runs PRAGMA quick_check on the database at path when its
// file and WAL together are at most limit bytes (0: the default; negative:
// never), and returns an *OpenError of class ErrDamaged when it finds a
// problem. quick_check reads every page of the file and checks the
// structure of every b-tree (not index contents against tables, which
// integrity_check adds): O(size of the file); see
// DefaultQuickCheckBytes.
func quickCheck(ctx context.Context, w *sql.DB, path string, limit int64) error {
	if limit == 0 {
		limit = DefaultQuickCheckBytes
	}
	if limit < 0 {
		return nil
	}
	var size int64
	for _, p := range []string{path, path + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			size += st.Size()
		}
	}
	if size > limit {
		return nil
	}
	rows, err := w.QueryContext(ctx, fmt.Sprintf("PRAGMA quick_check(%d)", quickCheckErrors))
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if !strings.HasPrefix(s, "*** in database") { // a heading, not a problem
			problems = append(problems, s)
		}
	}
	// quick_check reports what it found, then may stop with SQLITE_CORRUPT.
	err = rows.Err()
	switch {
	case err != nil && (len(problems) == 0 || !isCorrupt(err)):
		return err
	case err == nil && len(problems) == 1 && problems[0] == "ok":
		return nil
	case len(problems) == 0:
		problems = append(problems, "no result")
	}
	detail := "quick_check: " + problems[0]
	if len(problems) > 1 {
		detail += fmt.Sprintf(" (and %d more)", len(problems)-1)
	}
	if err == nil {
		err = errors.New("sqlitedb: PRAGMA quick_check: " + strings.Join(problems, "; "))
	}
	return &OpenError{Class: ErrDamaged, Detail: detail, Err: err}
}
