package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// ensureProject returns the id of the account's project with the slug,
// creating it (named after the slug) when there is none. A value that is
// not a valid slug creates nothing and returns "" (contract §5.9). Nodes
// creating one project at once get the same one.
func ensureProject(ctx context.Context, q querier, accountID, slug string, now time.Time) (string, error) {
	if !store.ValidSlug(slug) || store.ReservedSlug(slug) {
		return "", nil
	}
	id, err := projectID(ctx, q, accountID, slug)
	if !errors.Is(err, store.ErrNotFound) {
		return id, err
	}
	id = uuid.New()
	n, err := affected(q.Exec(ctx, `INSERT INTO projects(id, account_id, slug, name, metadata, created_at, updated_at)
		VALUES ($1, $2, $3, $4, '{}', $5, $6) ON CONFLICT (account_id, slug) DO NOTHING`, id, accountID, slug, slug, ms(now), ms(now)))
	if err != nil || n == 1 {
		return id, err
	}
	return projectID(ctx, q, accountID, slug)
}

// projectID returns the id of the account's project with the slug, or
// ErrNotFound.
func projectID(ctx context.Context, q querier, accountID, slug string) (string, error) {
	return queryValue[string](ctx, q, "SELECT id FROM projects WHERE account_id = $1 AND slug = $2", accountID, slug)
}

// checkSession returns ErrSessionNotFound unless the account has the session.
func checkSession(ctx context.Context, q querier, accountID, sessionID string) error {
	ok, err := exists(ctx, q, "SELECT 1 FROM sessions WHERE account_id = $1 AND id = $2", accountID, sessionID)
	if err == nil && !ok {
		return store.ErrSessionNotFound
	}
	return err
}

// resolveRefs applies the cross-references of a memory write inside its
// transaction: the session must exist, the project is created if unknown.
func resolveRefs(ctx context.Context, q querier, m *store.Memory) error {
	if m.SessionID != nil {
		if err := checkSession(ctx, q, m.AccountID, *m.SessionID); err != nil {
			return err
		}
	}
	m.ProjectID = nil
	if m.Project != nil {
		id, err := ensureProject(ctx, q, m.AccountID, *m.Project, m.UpdatedAt)
		if err != nil {
			return err
		}
		if id != "" {
			m.ProjectID = &id
		}
	}
	return nil
}
