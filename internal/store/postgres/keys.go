package postgres

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Keys returns the store as a [keys.Repository].
func (s *Store) Keys() keys.Repository { return keyRepo{s} }

type keyRepo struct{ s *Store }

var _ keys.Repository = keyRepo{}

const keyColumns = "k.id, k.account_id, k.name, k.prefix, k.scopes, k.metadata, k.rate_limit, k.created_at, k.expires_at, k.last_used_at, k.revoked_at, " +
	"k.rotated_at, k.daily_spend_limit, k.monthly_spend_limit, k.spend_day, k.spend_day_nano, k.spend_month, k.spend_month_nano"

func scanKey(r pgx.Row, extra ...any) (keys.Key, error) {
	var k keys.Key
	var sc int64
	var meta string
	var created int64
	var exp, used, rev, rotated, daily, monthly *int64
	dst := append([]any{&k.ID, &k.AccountID, &k.Name, &k.Prefix, &sc, &meta, &k.RateLimit, &created, &exp, &used, &rev,
		&rotated, &daily, &monthly, &k.Spend.Day, &k.Spend.DayNano, &k.Spend.Month, &k.Spend.MonthNano}, extra...)
	if err := r.Scan(dst...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
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
func nanoOf(usd *float64) *int64 {
	if usd == nil {
		return nil
	}
	v := int64(math.Round(*usd * 1e9))
	return &v
}

func fromNano(v *int64) *float64 {
	if v == nil {
		return nil
	}
	usd := float64(*v) / 1e9
	return &usd
}

func (r keyRepo) InsertKey(ctx context.Context, k keys.Key, hash [32]byte) error {
	return r.s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_keys(id, account_id, name, prefix, scopes, metadata, rate_limit, created_at, expires_at,
			daily_spend_limit, monthly_spend_limit) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			k.ID, k.AccountID, k.Name, k.Prefix, int64(k.Scopes), jsonOrEmpty(k.Metadata), k.RateLimit, ms(k.CreatedAt), nullMS(k.ExpiresAt),
			nanoOf(k.DailySpendLimit), nanoOf(k.MonthlySpendLimit))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO api_key_secrets(hash, key_id) VALUES ($1, $2)", hash[:], k.ID)
		return err
	})
}

func (r keyRepo) SecretByHash(ctx context.Context, hash [32]byte) (keys.Secret, error) {
	var until *int64
	k, err := scanKey(r.s.queryRow(ctx, "SELECT "+keyColumns+", s.valid_until FROM api_key_secrets s JOIN api_keys k ON k.id = s.key_id WHERE s.hash = $1", hash[:]), &until)
	if err != nil {
		return keys.Secret{}, err
	}
	return keys.Secret{Key: k, ValidUntil: fromNullMS(until)}, nil
}

func (r keyRepo) KeyByID(ctx context.Context, accountID, id string) (keys.Key, error) {
	return scanKey(r.s.queryRow(ctx, "SELECT "+keyColumns+" FROM api_keys k WHERE k.account_id = $1 AND k.id = $2", accountID, id))
}

func (r keyRepo) ListKeys(ctx context.Context, accountID string, limit, offset int) ([]keys.Key, int, error) {
	var out []keys.Key
	var total int
	err := r.s.read(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM api_keys WHERE account_id = $1", accountID).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+keyColumns+" FROM api_keys k WHERE k.account_id = $1 ORDER BY k.created_at DESC, k.id DESC LIMIT $2 OFFSET $3", accountID, limit, offset)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (keys.Key, error) { return scanKey(row) })
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// RevokeKey locks the account's row first, so that two revocations of an
// account's keys run one after the other: otherwise each could see the
// other's key still live and both revoke the last two admin keys.
func (r keyRepo) RevokeKey(ctx context.Context, accountID, id string, at time.Time) (keys.Key, error) {
	var out keys.Key
	err := r.s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", accountID); err != nil {
			return err
		}
		k, err := scanKey(tx.QueryRow(ctx, "SELECT "+keyColumns+" FROM api_keys k WHERE k.account_id = $1 AND k.id = $2", accountID, id))
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
			var others bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE account_id = $1 AND id <> $2
				AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3) AND (scopes & $4) <> 0)`,
				accountID, id, ms(at), int64(scopes.NewSet(scopes.Admin))).Scan(&others); err != nil {
				return err
			}
			if !others {
				return keys.ErrLastAdmin
			}
		}
		// The secrets stay, so that a revoked key is reported as revoked
		// (keys.ErrRevoked) rather than unknown.
		if _, err := tx.Exec(ctx, "UPDATE api_keys SET revoked_at = $1 WHERE id = $2", ms(at), id); err != nil {
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
	err := r.s.write(ctx, func(tx pgx.Tx) error {
		k, err := scanKey(tx.QueryRow(ctx, "SELECT "+keyColumns+" FROM api_keys k WHERE k.account_id = $1 AND k.id = $2 FOR UPDATE", accountID, id))
		if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return keys.ErrRevoked
		}
		until := ms(oldUntil)
		// Old secrets end at oldUntil, or earlier if they already ended.
		if _, err := tx.Exec(ctx, `UPDATE api_key_secrets SET valid_until = least(coalesce(valid_until, $1), $1) WHERE key_id = $2`, until, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO api_key_secrets(hash, key_id) VALUES ($1, $2)", newHash[:], id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE api_keys SET prefix = $1, rotated_at = $2 WHERE id = $3", newPrefix, ms(at), id); err != nil {
			return err
		}
		k.Prefix = newPrefix
		rotated := fromMS(ms(at))
		k.DeprecatedAt = &rotated
		out = k
		return nil
	})
	return out, err
}

func (r keyRepo) UpdateKey(ctx context.Context, accountID, id string, apply func(*keys.Key) error) (keys.Key, error) {
	var out keys.Key
	err := r.s.write(ctx, func(tx pgx.Tx) error {
		k, err := scanKey(tx.QueryRow(ctx, "SELECT "+keyColumns+" FROM api_keys k WHERE k.account_id = $1 AND k.id = $2 FOR UPDATE", accountID, id))
		if err != nil {
			return err
		}
		if err := apply(&k); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE api_keys SET name = $1, metadata = $2, daily_spend_limit = $3, monthly_spend_limit = $4 WHERE id = $5`,
			k.Name, jsonOrEmpty(k.Metadata), nanoOf(k.DailySpendLimit), nanoOf(k.MonthlySpendLimit), id)
		out = k
		return err
	})
	return out, err
}

// ChargeKey locks the key's row (FOR UPDATE): charges of one key from
// several nodes run one after the other, so their sum is checked against
// the limit exactly.
func (r keyRepo) ChargeKey(ctx context.Context, id string, apply func(*keys.Key) error) error {
	return r.s.write(ctx, func(tx pgx.Tx) error {
		k, err := scanKey(tx.QueryRow(ctx, "SELECT "+keyColumns+" FROM api_keys k WHERE k.id = $1 FOR UPDATE", id))
		if err != nil {
			return err
		}
		if err := apply(&k); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE api_keys SET spend_day = $1, spend_day_nano = $2, spend_month = $3, spend_month_nano = $4 WHERE id = $5`,
			k.Spend.Day, k.Spend.DayNano, k.Spend.Month, k.Spend.MonthNano, id)
		return err
	})
}

// TouchKeys raises last_used_at in one statement; several nodes touching
// one key keep the latest instant, whatever the order of their writes.
func (r keyRepo) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids := make([]string, 0, len(used))
	at := make([]int64, 0, len(used))
	for id, t := range used {
		ids = append(ids, id)
		at = append(at, ms(t))
	}
	return r.s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE api_keys k SET last_used_at = greatest(coalesce(k.last_used_at, 0), u.at)
			FROM unnest($1::text[], $2::bigint[]) AS u(id, at) WHERE k.id = u.id`, ids, at)
		return err
	})
}
