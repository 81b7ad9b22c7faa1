package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// ensureProject returns the id of the account's project with the slug,
// creating it (named after the slug) when there is none. A value that is
// not a valid slug creates nothing and returns "" (contract §5.9).
func ensureProject(ctx context.Context, q queryer, accountID, slug string, now time.Time) (string, error) {
	if !store.ValidSlug(slug) || store.ReservedSlug(slug) {
		return "", nil
	}
	id, err := projectID(ctx, q, accountID, slug)
	if !errors.Is(err, store.ErrNotFound) {
		return id, err
	}
	id = uuid.New()
	_, err = q.ExecContext(ctx, `INSERT INTO projects(id, account_id, slug, name, metadata, created_at, updated_at)
		VALUES (?, ?, ?, ?, '{}', ?, ?)`, id, accountID, slug, slug, ms(now), ms(now))
	return id, err
}

// checkSession returns ErrSessionNotFound unless the account has the session.
func checkSession(ctx context.Context, q queryer, accountID, sessionID string) error {
	ok, err := exists(ctx, q, "SELECT 1 FROM sessions WHERE account_id = ? AND id = ?", accountID, sessionID)
	if err == nil && !ok {
		return store.ErrSessionNotFound
	}
	return err
}

// resolveRefs applies the cross-references of a memory write inside its
// transaction: the session must exist, the project is created if unknown.
func resolveRefs(ctx context.Context, q queryer, m *store.Memory) error {
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
