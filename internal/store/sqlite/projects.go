package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

const projectColumns = `p.id, p.account_id, p.slug, p.name, p.description, p.stack, p.repo_url, p.metadata, p.created_at, p.updated_at,
	(SELECT count(*) FROM memories m WHERE m.project_id = p.id AND m.account_id = p.account_id)`

func scanProject(r rowScanner) (store.Project, error) {
	var p store.Project
	var desc, stack, repo sql.NullString
	var meta string
	var created, updated int64
	if err := r.Scan(&p.ID, &p.AccountID, &p.Slug, &p.Name, &desc, &stack, &repo, &meta, &created, &updated, &p.MemoryCount); err != nil {
		return store.Project{}, err
	}
	p.Description, p.RepoURL = fromNullString(desc), fromNullString(repo)
	if stack.Valid {
		p.Stack = []byte(stack.String)
	}
	p.Metadata = fromJSONObject(meta)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

// InsertProject stores p. p.ID, p.AccountID, p.Slug, p.Name and the
// timestamps must be set. A slug the account already has is ErrSlugTaken.
func (s *Store) InsertProject(ctx context.Context, p *store.Project) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := projectID(ctx, tx, p.AccountID, p.Slug); err == nil {
			return store.ErrSlugTaken
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var stack any
		if p.Stack != nil {
			stack = string(p.Stack)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO projects(id, account_id, slug, name, description, stack, repo_url, metadata, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.AccountID, p.Slug, p.Name, nullString(p.Description), stack, nullString(p.RepoURL), jsonOrEmpty(p.Metadata),
			ms(p.CreatedAt), ms(p.UpdatedAt))
		return err
	})
}

// projectID returns the id of the account's project with the slug, or
// ErrNotFound.
func projectID(ctx context.Context, q queryer, accountID, slug string) (string, error) {
	return queryValue[string](ctx, q, "SELECT id FROM projects WHERE account_id = ? AND slug = ?", accountID, slug)
}

// ProjectSlug returns the slug of the account's project with the id, or
// ErrNotFound.
func (s *Store) ProjectSlug(ctx context.Context, accountID, id string) (string, error) {
	return queryValue[string](ctx, s.q(ctx), "SELECT slug FROM projects WHERE account_id = ? AND id = ?", accountID, id)
}

// GetProject returns the account's project with the slug, or ErrNotFound.
func (s *Store) GetProject(ctx context.Context, accountID, slug string) (store.Project, error) {
	return queryOne(ctx, s.q(ctx), scanProject, "SELECT "+projectColumns+" FROM projects p WHERE p.account_id = ? AND p.slug = ?", accountID, slug)
}

// ListProjects returns a page of the account's projects, newest first
// (created_at, then id, descending), and the total count. after, when not
// nil, starts the page after that position instead of at offset.
func (s *Store) ListProjects(ctx context.Context, accountID string, limit, offset int, after *store.Position) ([]store.Project, int, error) {
	l := listQuery{columns: projectColumns, from: "projects p", cond: "p.account_id = ?", at: "p.created_at", id: "p.id"}
	return queryPage(ctx, s.q(ctx), scanProject, l, []any{accountID}, limit, offset, after)
}

// ProjectMemories returns up to limit of the project's unarchived
// memories in the tier, newest first.
func (s *Store) ProjectMemories(ctx context.Context, accountID, projectID, tier string, limit int) ([]store.Memory, error) {
	out, err := queryAll(ctx, s.q(ctx), scanMemory, "SELECT "+memoryColumns+` FROM memories m
		WHERE m.account_id = ? AND m.project_id = ? AND m.tier = ? AND m.archived_at IS NULL
		ORDER BY m.created_at DESC, m.id DESC LIMIT ?`, accountID, projectID, tier, limit)
	if err != nil {
		return nil, err
	}
	return out, fillEntities(ctx, s.q(ctx), out)
}

// InsertProjectRelationship stores the edge rel.Source → rel.Target of type
// rel.Type. The source project must exist (else ErrNotFound); the target is
// created, named after its slug, when the account has none (rel.Target
// must be a valid slug). An edge with the same source, target and type is
// not stored twice: rel is then filled from the existing edge and created
// is false. rel.AccountID and rel.CreatedAt must be set; rel.ID is filled
// in.
func (s *Store) InsertProjectRelationship(ctx context.Context, rel *store.ProjectRelationship) (created bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
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
		var id, meta string
		var at int64
		err = tx.QueryRowContext(ctx, `SELECT id, metadata, created_at FROM project_relationships
			WHERE account_id = ? AND source_project_id = ? AND target_project_id = ? AND relationship_type = ?`,
			rel.AccountID, src, dst, rel.Type).Scan(&id, &meta, &at)
		if err == nil {
			rel.ID, rel.Metadata, rel.CreatedAt = id, fromJSONObject(meta), fromMS(at)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rel.ID = uuid.New()
		_, err = tx.ExecContext(ctx, `INSERT INTO project_relationships(id, account_id, source_project_id, target_project_id, relationship_type, metadata, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, rel.ID, rel.AccountID, src, dst, rel.Type, jsonOrEmpty(rel.Metadata), ms(rel.CreatedAt))
		created = err == nil
		return err
	})
	return created, err
}

// ProjectLinks returns up to limit edges of the account's project with the
// slug, newest first: outgoing ones if out is set, incoming ones if in is
// set, restricted to the given relationship types unless types is empty.
// An unknown project is ErrNotFound.
func (s *Store) ProjectLinks(ctx context.Context, accountID, slug string, out, in bool, types []string, limit int) ([]store.ProjectLink, error) {
	id, err := projectID(ctx, s.q(ctx), accountID, slug)
	if err != nil {
		return nil, err
	}
	typeCond, typeArgs := "", []any(nil)
	if len(types) > 0 {
		var in string
		in, typeArgs = inList(types)
		typeCond = " AND r.relationship_type IN " + in
	}
	var parts []string
	var args []any
	side := func(dir, self, other string) {
		parts = append(parts, `SELECT p.slug, p.name, r.relationship_type, '`+dir+`', r.metadata, r.created_at, r.id
			FROM project_relationships r JOIN projects p ON p.id = r.`+other+`
			WHERE r.account_id = ? AND r.`+self+` = ?`+typeCond)
		args = append(append(args, accountID, id), typeArgs...)
	}
	if out {
		side(store.Outgoing, "source_project_id", "target_project_id")
	}
	if in {
		side(store.Incoming, "target_project_id", "source_project_id")
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return queryAll(ctx, s.q(ctx), func(r rowScanner) (store.ProjectLink, error) {
		var l store.ProjectLink
		var meta, edgeID string
		var at int64
		if err := r.Scan(&l.Slug, &l.Name, &l.RelationshipType, &l.Direction, &meta, &at, &edgeID); err != nil {
			return store.ProjectLink{}, err
		}
		l.Metadata, l.CreatedAt = fromJSONObject(meta), fromMS(at)
		return l, nil
	}, strings.Join(parts, " UNION ALL ")+" ORDER BY 6 DESC, 7 DESC LIMIT ?", append(args, limit)...)
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
	start, err := projectID(ctx, s.q(ctx), accountID, slug)
	if err != nil {
		return nil, err
	}
	if len(types) == 0 || maxDepth < 1 || limit < 1 {
		return nil, nil
	}
	in, typeArgs := inList(types)
	q := `SELECT p.id, p.slug, p.name, min(r.relationship_type) FROM project_relationships r
		JOIN projects p ON p.id = r.source_project_id AND p.account_id = ?
		WHERE r.target_project_id IN (SELECT value FROM json_each(?)) AND r.relationship_type IN ` + in + `
		AND r.account_id = ? AND p.id NOT IN (SELECT value FROM json_each(?))
		GROUP BY p.id ORDER BY p.slug, p.id LIMIT ?`
	var out []store.Dependent
	err = s.read(ctx, func(tx queryer) error {
		seen := []string{start}
		frontier := []string{start}
		for depth := 1; depth <= maxDepth && len(frontier) > 0 && len(out) < limit; depth++ {
			args := append(append([]any{accountID, jsonList(frontier)}, typeArgs...), accountID, jsonList(seen), limit-len(out))
			frontier = frontier[:0]
			err := queryEach(ctx, tx, func(r rowScanner) error {
				d := store.Dependent{Depth: depth}
				if err := r.Scan(&d.ProjectID, &d.Slug, &d.Name, &d.RelationshipType); err != nil {
					return err
				}
				out = append(out, d)
				frontier = append(frontier, d.ProjectID)
				return nil
			}, q, args...)
			if err != nil {
				return err
			}
			seen = append(seen, frontier...)
		}
		return nil
	})
	return out, err
}

// SharedPatterns returns up to limit of the account's patterns adopted by
// both projects (by id), most adopted first, then newest.
func (s *Store) SharedPatterns(ctx context.Context, accountID, projectA, projectB string, limit int) ([]store.Pattern, error) {
	return queryAll(ctx, s.q(ctx), scanPattern, "SELECT "+patternColumns+` FROM patterns p WHERE p.account_id = ?
		AND EXISTS (SELECT 1 FROM pattern_adoptions pa WHERE pa.pattern_id = p.id AND pa.project_id = ?)
		AND EXISTS (SELECT 1 FROM pattern_adoptions pb WHERE pb.pattern_id = p.id AND pb.project_id = ?)
		ORDER BY p.adoption_count DESC, p.created_at DESC, p.id DESC LIMIT ?`, accountID, projectA, projectB, limit)
}
