package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Keys returns the store as a [keys.Repository].
func (s *Store) Keys() keys.Repository { return keyRepo{s} }

type keyRepo struct{ s *Store }

var _ keys.Repository = keyRepo{}

const keyColumns = "k.id, k.account_id, k.name, k.prefix, k.scopes, k.metadata, k.rate_limit, k.created_at, k.expires_at, k.last_used_at, k.revoked_at, " +
	"k.rotated_at, k.daily_spend_limit, k.monthly_spend_limit, k.spend_day, k.spend_day_nano, k.spend_month, k.spend_month_nano"

// migrationKeysHosted adds what API.md §10.2 reports of a key: when it
// was last rotated, its spend limits (nano-USD; NULL unlimited) and its
// spend in the current day and month (reset by a new period's name).
const migrationKeysHosted = `
ALTER TABLE api_keys ADD COLUMN rotated_at INTEGER;
ALTER TABLE api_keys ADD COLUMN daily_spend_limit INTEGER;
ALTER TABLE api_keys ADD COLUMN monthly_spend_limit INTEGER;
ALTER TABLE api_keys ADD COLUMN spend_day TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN spend_day_nano INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN spend_month TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN spend_month_nano INTEGER NOT NULL DEFAULT 0;
`

// graceColumn is the end of a key's latest rotation grace (Key.GraceUntil):
// only rotated-out secrets have a valid_until.
const graceColumn = "(SELECT max(g.valid_until) FROM api_key_secrets g WHERE g.key_id = k.id)"

// scanKeyGrace is scanKey of a row of keyColumns and graceColumn.
func scanKeyGrace(r rowScanner) (keys.Key, error) {
	var grace sql.NullInt64
	k, err := scanKey(r, &grace)
	k.GraceUntil = fromNullMS(grace)
	return k, err
}

func scanKey(r rowScanner, extra ...any) (keys.Key, error) {
	var k keys.Key
	var sc int64
	var meta string
	var created int64
	var exp, used, rev, rotated, daily, monthly sql.NullInt64
	dst := append([]any{&k.ID, &k.AccountID, &k.Name, &k.Prefix, &sc, &meta, &k.RateLimit, &created, &exp, &used, &rev,
		&rotated, &daily, &monthly, &k.Spend.Day, &k.Spend.DayNano, &k.Spend.Month, &k.Spend.MonthNano}, extra...)
	if err := r.Scan(dst...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return keys.Key{}, keys.ErrNotFound
		}
		return keys.Key{}, err
	}
	k.Scopes = scopes.Set(sc)
	k.Metadata = fromJSONObject(meta)
	k.CreatedAt = fromMS(created)
	k.ExpiresAt = fromNullMS(exp)
	k.LastUsedAt = fromNullMS(used)
	k.RevokedAt = fromNullMS(rev)
	k.DeprecatedAt = fromNullMS(rotated)
	k.DailySpendLimit, k.MonthlySpendLimit = fromNano(daily), fromNano(monthly)
	return k, nil
}

// nanoOf and fromNano convert a spend limit in USD to the stored
// nano-USD and back.
func nanoOf(usd *float64) any {
	if usd == nil {
		return nil
	}
	return int64(math.Round(*usd * 1e9))
}

func fromNano(v sql.NullInt64) *float64 {
	if !v.Valid {
		return nil
	}
	usd := float64(v.Int64) / 1e9
	return &usd
}

func (r keyRepo) InsertKey(ctx context.Context, k keys.Key, hash [32]byte) error {
	return r.s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys(id, account_id, name, prefix, scopes, metadata, rate_limit, created_at, expires_at,
			daily_spend_limit, monthly_spend_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.AccountID, k.Name, k.Prefix, int64(k.Scopes), jsonOrEmpty(k.Metadata), k.RateLimit, ms(k.CreatedAt), nullMS(k.ExpiresAt),
			nanoOf(k.DailySpendLimit), nanoOf(k.MonthlySpendLimit))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO api_key_secrets(hash, key_id) VALUES (?, ?)", hash[:], k.ID)
		return err
	})
}

func (r keyRepo) SecretByHash(ctx context.Context, hash [32]byte) (keys.Secret, error) {
	var until sql.NullInt64
	k, err := scanKey(queryRow(ctx, r.s.q(ctx), "SELECT "+keyColumns+", s.valid_until FROM api_key_secrets s JOIN api_keys k ON k.id = s.key_id WHERE s.hash = ?", hash[:]), &until)
	if err != nil {
		return keys.Secret{}, err
	}
	return keys.Secret{Key: k, ValidUntil: fromNullMS(until)}, nil
}

func (r keyRepo) KeyByID(ctx context.Context, accountID, id string) (keys.Key, error) {
	return keyByID(ctx, r.s.q(ctx), accountID, id)
}

func keyByID(ctx context.Context, q queryer, accountID, id string) (keys.Key, error) {
	return scanKeyGrace(queryRow(ctx, q, "SELECT "+keyColumns+", "+graceColumn+" FROM api_keys k WHERE k.account_id = ? AND k.id = ?", accountID, id))
}

func (r keyRepo) ListKeys(ctx context.Context, accountID string, limit, offset int) ([]keys.Key, int, error) {
	l := listQuery{columns: keyColumns + ", " + graceColumn, from: "api_keys k", cond: "k.account_id = ?", at: "k.created_at", id: "k.id"}
	return queryPage(ctx, r.s.q(ctx), scanKeyGrace, l, []any{accountID}, limit, offset, nil)
}

func (r keyRepo) RevokeKey(ctx context.Context, accountID, id string, at time.Time) (keys.Key, error) {
	var out keys.Key
	err := r.s.write(ctx, func(tx *sql.Tx) error {
		k, err := keyByID(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			out = k
			return nil
		}
		// Only a live admin key can be the last one: revoking an expired
		// key takes no access away.
		if k.Scopes.Has(scopes.Admin) && (k.ExpiresAt == nil || k.ExpiresAt.After(at)) {
			others, err := exists(ctx, tx, `SELECT 1 FROM api_keys WHERE account_id = ? AND id <> ?
				AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (scopes & ?) <> 0`,
				accountID, id, ms(at), int64(scopes.NewSet(scopes.Admin)))
			if err != nil {
				return err
			}
			if !others {
				return keys.ErrLastAdmin
			}
		}
		// The secrets stay, so that a revoked key is reported as revoked
		// (keys.ErrRevoked) rather than unknown.
		if _, err := tx.ExecContext(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ?", ms(at), id); err != nil {
			return err
		}
		k.RevokedAt = &at
		out = k
		return nil
	})
	return out, err
}

func (r keyRepo) RotateKey(ctx context.Context, accountID, id string, newHash [32]byte, newPrefix string, oldUntil, at time.Time) (keys.Key, error) {
	var out keys.Key
	err := r.s.write(ctx, func(tx *sql.Tx) error {
		k, err := keyByID(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return keys.ErrRevoked
		}
		until := ms(oldUntil)
		// Old secrets end at oldUntil, or earlier if they already ended.
		if _, err := tx.ExecContext(ctx, `UPDATE api_key_secrets SET valid_until = min(coalesce(valid_until, ?), ?) WHERE key_id = ?`, until, until, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO api_key_secrets(hash, key_id) VALUES (?, ?)", newHash[:], id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE api_keys SET prefix = ?, rotated_at = ? WHERE id = ?", newPrefix, ms(at), id); err != nil {
			return err
		}
		k.Prefix = newPrefix
		rotated := fromMS(ms(at))
		k.DeprecatedAt = &rotated
		grace := fromMS(until) // every old secret now ends by then
		k.GraceUntil = &grace
		out = k
		return nil
	})
	return out, err
}

func (r keyRepo) UpdateKey(ctx context.Context, accountID, id string, apply func(*keys.Key) error) (keys.Key, error) {
	var out keys.Key
	err := r.s.write(ctx, func(tx *sql.Tx) error {
		k, err := keyByID(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if err := apply(&k); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET name = ?, metadata = ?, daily_spend_limit = ?, monthly_spend_limit = ? WHERE id = ?`,
			k.Name, jsonOrEmpty(k.Metadata), nanoOf(k.DailySpendLimit), nanoOf(k.MonthlySpendLimit), id)
		out = k
		return err
	})
	return out, err
}

func (r keyRepo) ChargeKey(ctx context.Context, id string, apply func(*keys.Key) error) error {
	return r.s.write(ctx, func(tx *sql.Tx) error {
		k, err := scanKey(queryRow(ctx, tx, "SELECT "+keyColumns+" FROM api_keys k WHERE k.id = ?", id))
		if err != nil {
			return err
		}
		if err := apply(&k); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET spend_day = ?, spend_day_nano = ?, spend_month = ?, spend_month_nano = ? WHERE id = ?`,
			k.Spend.Day, k.Spend.DayNano, k.Spend.Month, k.Spend.MonthNano, id)
		return err
	})
}

func (r keyRepo) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	return r.s.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, "UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?")
		if err != nil {
			return err
		}
		defer st.Close()
		for id, t := range used {
			if _, err := st.ExecContext(ctx, ms(t), id); err != nil {
				return err
			}
		}
		return nil
	})
}
