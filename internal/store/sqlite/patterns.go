package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

const patternColumns = `p.id, p.account_id, p.title, p.description, p.category, p.example_code, p.scope, p.tags,
	p.source_project_id, p.source_project_slug, p.metadata, p.adoption_count, p.created_at, p.updated_at`

func scanPattern(r rowScanner) (store.Pattern, error) {
	var p store.Pattern
	var category, example, srcID, srcSlug sql.NullString
	var tags, meta string
	var created, updated int64
	if err := r.Scan(&p.ID, &p.AccountID, &p.Title, &p.Description, &category, &example, &p.Scope, &tags,
		&srcID, &srcSlug, &meta, &p.AdoptionCount, &created, &updated); err != nil {
		return store.Pattern{}, err
	}
	p.Category, p.ExampleCode = fromNullString(category), fromNullString(example)
	p.SourceProjectID, p.SourceProjectSlug = fromNullString(srcID), fromNullString(srcSlug)
	var err error
	if p.Tags, err = decodeTagList(tags); err != nil {
		return store.Pattern{}, err
	}
	p.Metadata = fromJSONObject(meta)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

// InsertPattern stores p with its embedding (vec; nil for none) in
// one transaction, creating its source project (p.SourceProjectSlug, when
// a valid slug) if the account has none by that slug. p.ID, p.AccountID,
// p.Scope and the timestamps must be set; p.SourceProjectID is filled in.
func (s *Store) InsertPattern(ctx context.Context, p *store.Pattern, vec []float32) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		p.SourceProjectID = nil
		if p.SourceProjectSlug != nil {
			id, err := ensureProject(ctx, tx, p.AccountID, *p.SourceProjectSlug, p.CreatedAt)
			if err != nil {
				return err
			}
			if id != "" {
				p.SourceProjectID = &id
			}
		}
		if p.Tags == nil {
			p.Tags = []string{}
		}
		tags, err := encodeTagList(p.Tags)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO patterns(id, account_id, title, description, category, example_code, scope, tags,
			source_project_id, source_project_slug, metadata, adoption_count, embedding, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
			p.ID, p.AccountID, p.Title, p.Description, nullString(p.Category), nullString(p.ExampleCode), p.Scope, tags,
			nullString(p.SourceProjectID), nullString(p.SourceProjectSlug), jsonOrEmpty(p.Metadata), vectorArg(vec), ms(p.CreatedAt), ms(p.UpdatedAt))
		return err
	})
}

// GetPattern returns the account's pattern with the id, or ErrNotFound.
func (s *Store) GetPattern(ctx context.Context, accountID, id string) (store.Pattern, error) {
	return getPattern(ctx, s.q(ctx), accountID, id)
}

func getPattern(ctx context.Context, q queryer, accountID, id string) (store.Pattern, error) {
	return queryOne(ctx, q, scanPattern, "SELECT "+patternColumns+" FROM patterns p WHERE p.account_id = ? AND p.id = ?", accountID, id)
}

func patternWhere(f store.PatternFilter) (string, []any) {
	cond := "p.account_id = ?"
	args := []any{f.AccountID}
	if f.Category != nil {
		cond += " AND p.category = ?"
		args = append(args, *f.Category)
	}
	if f.Project != nil {
		cond += ` AND EXISTS (SELECT 1 FROM projects pr WHERE pr.account_id = p.account_id AND pr.slug = ?
			AND (p.source_project_id = pr.id OR EXISTS (SELECT 1 FROM pattern_adoptions pa WHERE pa.pattern_id = p.id AND pa.project_id = pr.id)))`
		args = append(args, *f.Project)
	}
	return cond, args
}

// PatternCandidates calls fn, in no particular order, for each of the at
// most limit patterns matching f whose embeddings are nearest vec
// (those without one come last, newest first),
// with what ranking needs (RankCandidate: the body is the description).
// Rows are streamed: one is held at a time, whatever limit is.
func (s *Store) PatternCandidates(ctx context.Context, f store.PatternFilter, vec []float32, limit int, fn func(store.RankCandidate)) error {
	cond, args := patternWhere(f)
	return s.rankCandidates(ctx, `SELECT p.id, p.title, p.description, p.created_at, c.dist FROM (
		SELECT p.id AS id, `+cosineDistanceSQL("p.embedding")+` AS dist FROM patterns p WHERE `+cond+`
		ORDER BY dist IS NULL, dist, p.created_at DESC, p.id DESC LIMIT ?) c
		JOIN patterns p ON p.id = c.id`, append(append([]any{vectorArg(vec)}, args...), limit), fn)
}

// PatternsByID returns the account's patterns with the ids, in no
// particular order; ids it does not have are left out.
func (s *Store) PatternsByID(ctx context.Context, accountID string, ids []string) ([]store.Pattern, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return queryAll(ctx, s.q(ctx), scanPattern, "SELECT "+patternColumns+" FROM patterns p WHERE p.account_id = ? AND p.id IN (SELECT value FROM json_each(?))",
		accountID, jsonList(ids))
}

// TopPatterns returns up to limit patterns matching f, most adopted first
// (then newest).
func (s *Store) TopPatterns(ctx context.Context, f store.PatternFilter, limit int) ([]store.Pattern, error) {
	cond, args := patternWhere(f)
	return queryAll(ctx, s.q(ctx), scanPattern, "SELECT "+patternColumns+" FROM patterns p WHERE "+cond+
		" ORDER BY p.adoption_count DESC, p.created_at DESC, p.id DESC LIMIT ?", append(args, limit)...)
}

// AdoptPattern records that the account's project with the slug adopted
// its pattern id, creating the project if unknown, and returns the
// pattern. Only a project's first adoption raises adoption_count (and
// updated_at). The slug must be valid (ValidSlug); a missing pattern is
// ErrNotFound.
func (s *Store) AdoptPattern(ctx context.Context, accountID, id, slug string, now time.Time) (store.Pattern, error) {
	var out store.Pattern
	err := s.write(ctx, func(tx *sql.Tx) error {
		p, err := getPattern(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		projectID, err := ensureProject(ctx, tx, accountID, slug, now)
		if err != nil {
			return err
		}
		if projectID == "" {
			return fmt.Errorf("store: adopt pattern: invalid project slug %q", slug)
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO pattern_adoptions(pattern_id, project_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			p.ID, projectID, ms(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if _, err := tx.ExecContext(ctx, "UPDATE patterns SET adoption_count = adoption_count + 1, updated_at = max(updated_at + 1, ?) WHERE id = ?",
				ms(now), p.ID); err != nil {
				return err
			}
			if p, err = getPattern(ctx, tx, accountID, id); err != nil {
				return err
			}
		}
		out = p
		return nil
	})
	return out, err
}

// SuggestPatterns returns up to limit of the account's patterns that its
// project with the slug has not adopted: global ones first, then by
// adoption_count (then newest). An unknown project is ErrNotFound.
func (s *Store) SuggestPatterns(ctx context.Context, accountID, slug string, limit int) ([]store.Pattern, error) {
	pid, err := projectID(ctx, s.q(ctx), accountID, slug)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, s.q(ctx), scanPattern, "SELECT "+patternColumns+` FROM patterns p WHERE p.account_id = ?
		AND NOT EXISTS (SELECT 1 FROM pattern_adoptions pa WHERE pa.pattern_id = p.id AND pa.project_id = ?)
		ORDER BY p.scope = 'global' DESC, p.adoption_count DESC, p.created_at DESC, p.id DESC LIMIT ?`,
		accountID, pid, limit)
}
