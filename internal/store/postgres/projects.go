package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

const projectColumns = `p.id, p.account_id, p.slug, p.name, p.description, p.stack, p.repo_url, p.metadata, p.created_at, p.updated_at,
	(SELECT count(*) FROM memories m WHERE m.project_id = p.id AND m.account_id = p.account_id)`

func scanProject(r rowScanner) (store.Project, error) {
	var p store.Project
	var stack *string
	var meta string
	var created, updated int64
	if err := r.Scan(&p.ID, &p.AccountID, &p.Slug, &p.Name, &p.Description, &stack, &p.RepoURL, &meta, &created, &updated, &p.MemoryCount); err != nil {
		return store.Project{}, err
	}
	if stack != nil {
		p.Stack = []byte(*stack)
	}
	p.Metadata = fromJSONObject(meta)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

// InsertProject stores p. p.ID, p.AccountID, p.Slug, p.Name and the
// timestamps must be set. A slug the account already has is ErrSlugTaken,
// whichever node stored it first.
func (s *Store) InsertProject(ctx context.Context, p *store.Project) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		var stack *string
		if p.Stack != nil {
			v := string(p.Stack)
			stack = &v
		}
		n, err := affected(tx.Exec(ctx, `INSERT INTO projects(id, account_id, slug, name, description, stack, repo_url, metadata, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (account_id, slug) DO NOTHING`,
			p.ID, p.AccountID, p.Slug, p.Name, p.Description, stack, p.RepoURL, jsonOrEmpty(p.Metadata),
			ms(p.CreatedAt), ms(p.UpdatedAt)))
		if err == nil && n == 0 {
			return store.ErrSlugTaken
		}
		return err
	})
}

// ProjectSlug returns the slug of the account's project with the id, or
// ErrNotFound.
func (s *Store) ProjectSlug(ctx context.Context, accountID, id string) (string, error) {
	var slug string
	err := s.do(ctx, func(q querier) error {
		var err error
		slug, err = queryValue[string](ctx, q, "SELECT slug FROM projects WHERE account_id = $1 AND id = $2", accountID, id)
		return err
	})
	return slug, err
}

// GetProject returns the account's project with the slug, or ErrNotFound.
func (s *Store) GetProject(ctx context.Context, accountID, slug string) (store.Project, error) {
	var p store.Project
	err := s.do(ctx, func(q querier) error {
		var err error
		p, err = queryOne(ctx, q, scanProject, "SELECT "+projectColumns+" FROM projects p WHERE p.account_id = $1 AND p.slug = $2", accountID, slug)
		return err
	})
	return p, err
}

// ListProjects returns a page of the account's projects, newest first
// (created_at, then id, descending), and the total count. after, when not
// nil, starts the page after that position instead of at offset.
func (s *Store) ListProjects(ctx context.Context, accountID string, limit, offset int, after *store.Position) ([]store.Project, int, error) {
	var out []store.Project
	var total int
	err := s.read(ctx, func(tx pgx.Tx) error {
		l := listQuery{columns: projectColumns, from: "projects p", cond: "p.account_id = $1", at: "p.created_at", id: "p.id"}
		var err error
		out, total, err = queryPage(ctx, tx, scanProject, l, params{accountID}, limit, offset, after)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// ProjectMemories returns up to limit of the project's unarchived
// memories in the tier, newest first.
func (s *Store) ProjectMemories(ctx context.Context, accountID, projectID, tier string, limit int) ([]store.Memory, error) {
	var out []store.Memory
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanMemory, "SELECT "+memoryColumns+` FROM memories m
			WHERE m.account_id = $1 AND m.project_id = $2 AND m.tier = $3 AND m.archived_at IS NULL
			ORDER BY m.created_at DESC, m.id DESC LIMIT $4`, accountID, projectID, tier, limit)
		if err != nil {
			return err
		}
		return fillEntities(ctx, tx, out)
	})
	return out, err
}

// InsertProjectRelationship stores the edge rel.Source → rel.Target of type
// rel.Type. The source project must exist (else ErrNotFound); the target is
// created, named after its slug, when the account has none (rel.Target
// must be a valid slug). An edge with the same source, target and type is
// not stored twice (a unique index, whichever node stores it): rel is then
// filled from the existing edge and created is false. rel.AccountID and
// rel.CreatedAt must be set; rel.ID is filled in.
func (s *Store) InsertProjectRelationship(ctx context.Context, rel *store.ProjectRelationship) (created bool, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		src, err := projectID(ctx, tx, rel.AccountID, rel.Source)
		if err != nil {
			return err
		}
		dst, err := ensureProject(ctx, tx, rel.AccountID, rel.Target, rel.CreatedAt)
		if err != nil {
			return err
		}
		if dst == "" {
			return errors.New("store: relationship target is not a valid slug")
		}
		id := uuid.New()
		n, err := affected(tx.Exec(ctx, `INSERT INTO project_relationships(id, account_id, source_project_id, target_project_id, relationship_type, metadata, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (source_project_id, target_project_id, relationship_type) DO NOTHING`,
			id, rel.AccountID, src, dst, rel.Type, jsonOrEmpty(rel.Metadata), ms(rel.CreatedAt)))
		if err != nil {
			return err
		}
		if n == 1 {
			rel.ID, created = id, true
			return nil
		}
		var meta string
		var at int64
		if err := tx.QueryRow(ctx, `SELECT id, metadata, created_at FROM project_relationships
			WHERE account_id = $1 AND source_project_id = $2 AND target_project_id = $3 AND relationship_type = $4`,
			rel.AccountID, src, dst, rel.Type).Scan(&rel.ID, &meta, &at); err != nil {
			return err
		}
		rel.Metadata, rel.CreatedAt = fromJSONObject(meta), fromMS(at)
		return nil
	})
	return created, err
}

// ProjectLinks returns up to limit edges of the account's project with the
// slug, newest first: outgoing ones if out is set, incoming ones if in is
// set, restricted to the given relationship types unless types is empty.
// An unknown project is ErrNotFound.
func (s *Store) ProjectLinks(ctx context.Context, accountID, slug string, out, in bool, types []string, limit int) ([]store.ProjectLink, error) {
	var links []store.ProjectLink
	err := s.read(ctx, func(tx pgx.Tx) error {
		id, err := projectID(ctx, tx, accountID, slug)
		if err != nil {
			return err
		}
		var p params
		acct, self := p.add(accountID), p.add(id)
		typeCond := ""
		if len(types) > 0 {
			typeCond = " AND r.relationship_type = ANY(" + p.add(types) + "::text[])"
		}
		var parts []string
		side := func(dir, selfCol, otherCol string) {
			parts = append(parts, `SELECT p.slug, p.name, r.relationship_type, '`+dir+`'::text, r.metadata, r.created_at, r.id
				FROM project_relationships r JOIN projects p ON p.id = r.`+otherCol+`
				WHERE r.account_id = `+acct+` AND r.`+selfCol+` = `+self+typeCond)
		}
		if out {
			side(store.Outgoing, "source_project_id", "target_project_id")
		}
		if in {
			side(store.Incoming, "target_project_id", "source_project_id")
		}
		if len(parts) == 0 {
			return nil
		}
		links, err = queryAll(ctx, tx, func(r rowScanner) (store.ProjectLink, error) {
			var l store.ProjectLink
			var meta, edgeID string
			var at int64
			if err := r.Scan(&l.Slug, &l.Name, &l.RelationshipType, &l.Direction, &meta, &at, &edgeID); err != nil {
				return store.ProjectLink{}, err
			}
			l.Metadata, l.CreatedAt = fromJSONObject(meta), fromMS(at)
			return l, nil
		}, strings.Join(parts, " UNION ALL ")+" ORDER BY 6 DESC, 7 DESC LIMIT "+p.add(limit), p...)
		return err
	})
	return links, err
}

// Dependents walks the incoming edges of the given types back from the
// account's project with the slug, transitively, up to maxDepth edges, and
// returns the first limit projects reached (the start excluded), each at
// its smallest depth, by depth then slug. RelationshipType is the
// (alphabetically first) type of an edge by which it was reached. The walk
// goes level by level in one read snapshot and visits each project once,
// so cycles and dense graphs cost no more than the edges into the projects
// visited; it stops at the level where limit is reached. An unknown
// project is ErrNotFound.
func (s *Store) Dependents(ctx context.Context, accountID, slug string, types []string, maxDepth, limit int) ([]store.Dependent, error) {
	var out []store.Dependent
	err := s.read(ctx, func(tx pgx.Tx) error {
		start, err := projectID(ctx, tx, accountID, slug)
		if err != nil {
			return err
		}
		if len(types) == 0 || maxDepth < 1 || limit < 1 {
			return nil
		}
		const q = `SELECT p.id, p.slug, p.name, min(r.relationship_type) FROM project_relationships r
			JOIN projects p ON p.id = r.source_project_id AND p.account_id = $1
			WHERE r.target_project_id = ANY($2::text[]) AND r.relationship_type = ANY($3::text[])
			AND r.account_id = $1 AND p.id <> ALL($4::text[])
			GROUP BY p.id ORDER BY p.slug, p.id LIMIT $5`
		seen := []string{start}
		frontier := []string{start}
		for depth := 1; depth <= maxDepth && len(frontier) > 0 && len(out) < limit; depth++ {
			args := []any{accountID, frontier, types, seen, limit - len(out)}
			var next []string
			err := queryEach(ctx, tx, func(r rowScanner) error {
				d := store.Dependent{Depth: depth}
				if err := r.Scan(&d.ProjectID, &d.Slug, &d.Name, &d.RelationshipType); err != nil {
					return err
				}
				out = append(out, d)
				next = append(next, d.ProjectID)
				return nil
			}, q, args...)
			if err != nil {
				return err
			}
			frontier = next
			seen = append(seen, next...)
		}
		return nil
	})
	return out, err
}
