package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

const patternColumns = `p.id, p.account_id, p.title, p.description, p.category, p.example_code, p.scope, p.tags,
	p.source_project_id, p.source_project_slug, p.metadata, p.adoption_count, p.created_at, p.updated_at`

func scanPattern(r rowScanner) (store.Pattern, error) {
	var p store.Pattern
	var tags, meta string
	var created, updated int64
	if err := r.Scan(&p.ID, &p.AccountID, &p.Title, &p.Description, &p.Category, &p.ExampleCode, &p.Scope, &tags,
		&p.SourceProjectID, &p.SourceProjectSlug, &meta, &p.AdoptionCount, &created, &updated); err != nil {
		return store.Pattern{}, err
	}
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
	return s.write(ctx, func(tx pgx.Tx) error {
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
		_, err = tx.Exec(ctx, `INSERT INTO patterns(id, account_id, title, description, category, example_code, scope, tags,
			source_project_id, source_project_slug, metadata, adoption_count, embedding, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14)`,
			p.ID, p.AccountID, p.Title, p.Description, p.Category, p.ExampleCode, p.Scope, tags,
			p.SourceProjectID, p.SourceProjectSlug, jsonOrEmpty(p.Metadata), vectorArg(vec), ms(p.CreatedAt), ms(p.UpdatedAt))
		return err
	})
}

// GetPattern returns the account's pattern with the id, or ErrNotFound.
func (s *Store) GetPattern(ctx context.Context, accountID, id string) (store.Pattern, error) {
	var p store.Pattern
	err := s.do(ctx, func(q querier) error {
		var err error
		p, err = getPattern(ctx, q, accountID, id, false)
		return err
	})
	return p, err
}

func getPattern(ctx context.Context, q querier, accountID, id string, lock bool) (store.Pattern, error) {
	query := "SELECT " + patternColumns + " FROM patterns p WHERE p.account_id = $1 AND p.id = $2"
	if lock {
		query += " FOR UPDATE"
	}
	return queryOne(ctx, q, scanPattern, query, accountID, id)
}

func patternWhere(f store.PatternFilter, p *params) string {
	cond := "p.account_id = " + p.add(f.AccountID)
	if f.Category != nil {
		cond += " AND p.category = " + p.add(*f.Category)
	}
	if f.Project != nil {
		cond += ` AND EXISTS (SELECT 1 FROM projects pr WHERE pr.account_id = p.account_id AND pr.slug = ` + p.add(*f.Project) + `
			AND (p.source_project_id = pr.id OR EXISTS (SELECT 1 FROM pattern_adoptions pa WHERE pa.pattern_id = p.id AND pa.project_id = pr.id)))`
	}
	return cond
}

// PatternCandidates calls fn, in no particular order, for each of the at
// most limit patterns matching f whose embeddings are nearest vec
// (those without one come last, newest first), with what ranking needs
// (RankCandidate: the body is the description), as DecisionCandidates
// does.
func (s *Store) PatternCandidates(ctx context.Context, f store.PatternFilter, vec []float32, limit int, fn func(store.RankCandidate)) error {
	var p params
	cond := patternWhere(f, &p)
	return s.rankCandidates(ctx, "SELECT p.id, p.created_at, p.embedding FROM patterns p WHERE "+cond, p,
		"SELECT p.id, p.title, p.description FROM patterns p WHERE p.id = ANY($1::text[])", vec, limit, fn)
}

// PatternsByID returns the account's patterns with the ids, in no
// particular order; ids it does not have are left out.
func (s *Store) PatternsByID(ctx context.Context, accountID string, ids []string) ([]store.Pattern, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.patterns(ctx, "SELECT "+patternColumns+" FROM patterns p WHERE p.account_id = $1 AND p.id = ANY($2::text[])", accountID, ids)
}

// patterns runs a query of patterns.
func (s *Store) patterns(ctx context.Context, query string, args ...any) ([]store.Pattern, error) {
	var out []store.Pattern
	err := s.do(ctx, func(q querier) error {
		var err error
		out, err = queryAll(ctx, q, scanPattern, query, args...)
		return err
	})
	return out, err
}

// TopPatterns returns up to limit patterns matching f, most adopted first
// (then newest).
func (s *Store) TopPatterns(ctx context.Context, f store.PatternFilter, limit int) ([]store.Pattern, error) {
	var p params
	cond := patternWhere(f, &p)
	return s.patterns(ctx, "SELECT "+patternColumns+" FROM patterns p WHERE "+cond+
		" ORDER BY p.adoption_count DESC, p.created_at DESC, p.id DESC LIMIT "+p.add(limit), p...)
}

// AdoptPattern records that the account's project with the slug adopted
// its pattern id, creating the project if unknown, and returns the
// pattern. Only a project's first adoption raises adoption_count (and
// updated_at), whichever node records it. The slug must be valid
// (ValidSlug); a missing pattern is ErrNotFound.
func (s *Store) AdoptPattern(ctx context.Context, accountID, id, slug string, now time.Time) (store.Pattern, error) {
	var out store.Pattern
	err := s.write(ctx, func(tx pgx.Tx) error {
		p, err := getPattern(ctx, tx, accountID, id, true)
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
		n, err := affected(tx.Exec(ctx, "INSERT INTO pattern_adoptions(pattern_id, project_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			p.ID, projectID, ms(now)))
		if err != nil {
			return err
		}
		if n == 1 {
			if _, err := tx.Exec(ctx, "UPDATE patterns SET adoption_count = adoption_count + 1, updated_at = greatest(updated_at + 1, $1) WHERE id = $2",
				ms(now), p.ID); err != nil {
				return err
			}
			if p, err = getPattern(ctx, tx, accountID, id, false); err != nil {
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
	var out []store.Pattern
	err := s.read(ctx, func(tx pgx.Tx) error {
		pid, err := projectID(ctx, tx, accountID, slug)
		if err != nil {
			return err
		}
		out, err = queryAll(ctx, tx, scanPattern, "SELECT "+patternColumns+` FROM patterns p WHERE p.account_id = $1
			AND NOT EXISTS (SELECT 1 FROM pattern_adoptions pa WHERE pa.pattern_id = p.id AND pa.project_id = $2)
			ORDER BY p.scope = 'global' DESC, p.adoption_count DESC, p.created_at DESC, p.id DESC LIMIT $3`,
			accountID, pid, limit)
		return err
	})
	return out, err
}

// SharedPatterns returns up to limit of the account's patterns adopted by
// both projects (by id), most adopted first, then newest.
func (s *Store) SharedPatterns(ctx context.Context, accountID, projectA, projectB string, limit int) ([]store.Pattern, error) {
	return s.patterns(ctx, "SELECT "+patternColumns+` FROM patterns p WHERE p.account_id = $1
		AND EXISTS (SELECT 1 FROM pattern_adoptions pa WHERE pa.pattern_id = p.id AND pa.project_id = $2)
		AND EXISTS (SELECT 1 FROM pattern_adoptions pb WHERE pb.pattern_id = p.id AND pb.project_id = $3)
		ORDER BY p.adoption_count DESC, p.created_at DESC, p.id DESC LIMIT $4`, accountID, projectA, projectB, limit)
}
