package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/webhook"
	"github.com/memoryrelay/memoryrelay/secret"
)

// migrationWebhooks adds webhooks and their durable outbox (API.md §10.3):
// an event is written once, with one delivery per webhook that receives
// it, in the transaction of the change it describes; attempts are logged
// per webhook.
const migrationWebhooks = `
CREATE TABLE webhooks (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	url         TEXT NOT NULL,
	event_mask  INTEGER NOT NULL DEFAULT 0,   -- webhook.Mask; 0: every type
	secret      BLOB,
	description TEXT,
	enabled     INTEGER NOT NULL DEFAULT 1,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX webhooks_account ON webhooks(account_id, created_at DESC, id DESC);

CREATE TABLE webhook_events (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	type       TEXT NOT NULL,
	data       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- The outbox: one row per (event, receiver), in write order (seq).
CREATE TABLE webhook_deliveries (
	seq              INTEGER PRIMARY KEY AUTOINCREMENT,
	id               TEXT NOT NULL UNIQUE,
	event_seq        INTEGER NOT NULL REFERENCES webhook_events(seq) ON DELETE CASCADE,
	webhook_id       TEXT REFERENCES webhooks(id) ON DELETE CASCADE, -- NULL: to url
	url              TEXT,                   -- a v2 webhook_url, when webhook_id is NULL
	receiver         TEXT NOT NULL,          -- webhook.Target.ID
	subject          TEXT NOT NULL DEFAULT '',
	state            INTEGER NOT NULL DEFAULT 0, -- 0 pending, else a webhook.Outcome that ended it
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_at          INTEGER NOT NULL DEFAULT 0,
	lease_until      INTEGER NOT NULL DEFAULT 0,
	first_attempt_at INTEGER,
	created_at       INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE state = 0;
CREATE INDEX webhook_deliveries_order ON webhook_deliveries(receiver, subject, seq) WHERE state = 0;
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_seq);

CREATE TABLE webhook_attempts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	webhook_id  TEXT REFERENCES webhooks(id) ON DELETE CASCADE,
	receiver    TEXT NOT NULL,
	delivery_id TEXT NOT NULL,
	event_id    TEXT NOT NULL,
	event_type  TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	status_code INTEGER NOT NULL,
	error       TEXT,
	outcome     INTEGER NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL,
	next_at     INTEGER
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts(webhook_id, id);
CREATE INDEX webhook_attempts_finished ON webhook_attempts(finished_at);
`

const webhookColumns = `id, account_id, url, event_mask, secret, description, enabled, created_at, updated_at`

func scanWebhook(r rowScanner) (store.Webhook, error) {
	var w store.Webhook
	var desc sql.NullString
	var created, updated int64
	var mask int64
	if err := r.Scan(&w.ID, &w.AccountID, &w.URL, &mask, &w.Secret, &desc, &w.Enabled, &created, &updated); err != nil {
		return store.Webhook{}, err
	}
	w.EventTypes = uint(mask)
	w.Description = fromNullString(desc)
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(updated)
	return w, nil
}

// CreateWebhook stores a new webhook of w.AccountID, unless the account
// has max already (ErrTooMany; max 0: no limit); the count and the insert
// are one transaction.
func (s *Store) CreateWebhook(ctx context.Context, w store.Webhook, max int) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if max > 0 {
			n, err := queryValue[int](ctx, tx, "SELECT count(*) FROM webhooks WHERE account_id = ?", w.AccountID)
			if err != nil {
				return err
			}
			if n >= max {
				return store.ErrTooMany
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks(`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.AccountID, w.URL, int64(w.EventTypes), nullBytes(w.Secret), nullString(w.Description), w.Enabled, ms(w.CreatedAt), ms(w.UpdatedAt))
		return err
	})
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// Webhook returns the account's webhook, or ErrNotFound.
func (s *Store) Webhook(ctx context.Context, accountID, id string) (store.Webhook, error) {
	return queryOne(ctx, s.q(ctx), scanWebhook, "SELECT "+webhookColumns+" FROM webhooks WHERE account_id = ? AND id = ?", accountID, id)
}

// Webhooks returns a page of the account's webhooks, newest first, and
// their total.
func (s *Store) Webhooks(ctx context.Context, accountID string, limit, offset int) ([]store.Webhook, int, error) {
	var out []store.Webhook
	var total int
	err := s.read(ctx, func(q queryer) error {
		var err error
		l := listQuery{columns: webhookColumns, from: "webhooks", cond: "account_id = ?", at: "created_at", id: "id"}
		out, total, err = queryPage(ctx, q, scanWebhook, l, []any{accountID}, limit, offset, nil)
		return err
	})
	return out, total, err
}

// CountWebhooks returns how many webhooks the account has.
func (s *Store) CountWebhooks(ctx context.Context, accountID string) (int, error) {
	return queryValue[int](ctx, s.q(ctx), "SELECT count(*) FROM webhooks WHERE account_id = ?", accountID)
}

// UpdateWebhook changes the account's webhook by apply, in one
// transaction, and returns it as stored; ErrNotFound if there is none.
// apply may not change the id or the account.
func (s *Store) UpdateWebhook(ctx context.Context, accountID, id string, apply func(*store.Webhook) error) (store.Webhook, error) {
	var out store.Webhook
	err := s.write(ctx, func(tx *sql.Tx) error {
		w, err := queryOne(ctx, tx, scanWebhook, "SELECT "+webhookColumns+" FROM webhooks WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return err
		}
		if err := apply(&w); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET url = ?, event_mask = ?, secret = ?, description = ?, enabled = ?, updated_at = ?
			WHERE account_id = ? AND id = ?`, w.URL, int64(w.EventTypes), nullBytes(w.Secret), nullString(w.Description), w.Enabled, ms(w.UpdatedAt), accountID, id)
		out = w
		return err
	})
	return out, err
}

// DeleteWebhook deletes the account's webhook with its queued deliveries
// and its log; ErrNotFound if there is none.
func (s *Store) DeleteWebhook(ctx context.Context, accountID, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM webhooks WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// PublishWebhookEvent writes e for every enabled webhook of the account
// that receives its type (and for e.URL, when set), and returns how many
// deliveries it queued; nothing is written when there are none. Called
// with the ctx of an InTx, it joins that transaction: the event commits
// with the change it describes, or not at all.
func (s *Store) PublishWebhookEvent(ctx context.Context, accountID string, e store.WebhookEvent) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		ids, err := queryAll(ctx, tx, scanValue[string], `SELECT id FROM webhooks WHERE account_id = ? AND enabled = 1 AND (event_mask = 0 OR event_mask & ? != 0) ORDER BY created_at, id`,
			accountID, int64(e.Bit))
		if err != nil {
			return err
		}
		if len(ids) == 0 && e.URL == "" {
			return nil
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_events(id, account_id, type, data, created_at) VALUES (?, ?, ?, ?, ?)`,
			e.ID, accountID, e.Type, string(e.Data), ms(e.CreatedAt))
		if err != nil {
			return err
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return err
		}
		now := ms(e.CreatedAt)
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries(id, event_seq, webhook_id, receiver, subject, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				uuid.New(), seq, id, id, e.Subject, now); err != nil {
				return err
			}
			n++
		}
		if e.URL != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries(id, event_seq, url, receiver, subject, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				uuid.New(), seq, e.URL, e.Receiver, e.Subject, now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// WebhookAttempts returns the latest attempts of the account's webhook,
// newest first, at most limit; ErrNotFound if there is no such webhook.
func (s *Store) WebhookAttempts(ctx context.Context, accountID, id string, limit int) ([]webhook.Attempt, error) {
	var out []webhook.Attempt
	err := s.read(ctx, func(q queryer) error {
		if ok, err := exists(ctx, q, "SELECT 1 FROM webhooks WHERE account_id = ? AND id = ?", accountID, id); err != nil || !ok {
			if err == nil {
				err = store.ErrNotFound
			}
			return err
		}
		var err error
		out, err = queryAll(ctx, q, scanAttempt, `SELECT `+attemptColumns+` FROM webhook_attempts WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`, id, limit)
		return err
	})
	return out, err
}

const attemptColumns = `delivery_id, receiver, event_id, event_type, attempt, status_code, error, outcome, started_at, finished_at, next_at`

func scanAttempt(r rowScanner) (webhook.Attempt, error) {
	var a webhook.Attempt
	var errText sql.NullString
	var started, finished int64
	var next sql.NullInt64
	var outcome int
	if err := r.Scan(&a.DeliveryID, &a.TargetID, &a.EventID, &a.EventType, &a.N, &a.StatusCode, &errText, &outcome, &started, &finished, &next); err != nil {
		return webhook.Attempt{}, err
	}
	a.Error = errText.String
	a.Outcome = webhook.Outcome(outcome)
	a.StartedAt, a.FinishedAt = fromMS(started), fromMS(finished)
	if next.Valid {
		a.NextAt = fromMS(next.Int64)
	}
	return a, nil
}

// PruneWebhookLog deletes what is older than before: ended deliveries,
// events none of whose deliveries is pending, and logged attempts. It
// returns how many attempts it deleted.
func (s *Store) PruneWebhookLog(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		b := ms(before)
		if _, err := tx.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE state != 0 AND created_at < ?", b); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_events WHERE created_at < ?
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = webhook_events.seq)`, b); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM webhook_attempts WHERE finished_at < ?", b)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// WebhookOutbox returns the store as the dispatcher's [webhook.Outbox].
func (s *Store) WebhookOutbox() webhook.Outbox { return outbox{s: s} }

type outbox struct{ s *Store }

var _ webhook.Outbox = outbox{}

// claimQuery selects the due heads of (receiver, subject), at most
// PerTarget (?2) per receiver, oldest first, at most ?3 rows.
const claimQuery = `
WITH cand AS (
	SELECT d.seq, d.id, d.receiver, d.subject, d.attempts, d.first_attempt_at,
		coalesce(w.url, d.url) AS url, w.secret,
		e.id AS event_id, e.type, e.created_at AS event_at, e.data,
		row_number() OVER (PARTITION BY d.receiver ORDER BY d.seq) AS rn
	FROM webhook_deliveries d
	JOIN webhook_events e ON e.seq = d.event_seq
	LEFT JOIN webhooks w ON w.id = d.webhook_id
	WHERE d.state = 0 AND d.next_at <= ?1 AND d.lease_until <= ?1
		AND (d.webhook_id IS NULL OR w.enabled = 1)
		AND (d.subject = '' OR NOT EXISTS (
			SELECT 1 FROM webhook_deliveries p
			WHERE p.receiver = d.receiver AND p.subject = d.subject AND p.state = 0 AND p.seq < d.seq))
)
SELECT seq, id, receiver, subject, attempts, first_attempt_at, url, secret, event_id, type, event_at, data
FROM cand WHERE rn <= ?2 ORDER BY seq LIMIT ?3`

// Claim implements webhook.Outbox.
func (o outbox) Claim(ctx context.Context, c webhook.Claim) ([]webhook.Delivery, error) {
	if c.Limit <= 0 || c.PerTarget <= 0 {
		return nil, nil
	}
	busy := 0
	for _, n := range c.InFlight {
		busy += max(n, 0)
	}
	var out []webhook.Delivery
	err := o.s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		taken := map[string]int{}
		var seqs []any
		err := queryEach(ctx, tx, func(r rowScanner) error {
			var d webhook.Delivery
			var seq, at int64
			var first sql.NullInt64
			var url, data string
			var sec []byte
			if err := r.Scan(&seq, &d.ID, &d.Target.ID, &d.Subject, &d.Attempts, &first, &url, &sec, &d.Event.ID, &d.Event.Type, &at, &data); err != nil {
				return err
			}
			if len(out) >= c.Limit || c.InFlight[d.Target.ID]+taken[d.Target.ID] >= c.PerTarget {
				return nil
			}
			taken[d.Target.ID]++
			d.Target.URL = url
			if len(sec) > 0 {
				d.Target.Secret = secret.New(string(sec))
			}
			if first.Valid {
				d.FirstAttemptAt = fromMS(first.Int64)
			}
			d.Event.CreatedAt = fromMS(at)
			d.Event.Data = []byte(data)
			out = append(out, d)
			seqs = append(seqs, seq)
			return nil
		}, claimQuery, ms(c.Now), c.PerTarget, c.Limit+busy)
		if err != nil || len(seqs) == 0 {
			return err
		}
		in, _ := inList(seqs)
		_, err = tx.ExecContext(ctx, "UPDATE webhook_deliveries SET lease_until = ? WHERE seq IN "+in, append([]any{ms(c.LeaseUntil)}, seqs...)...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Record implements webhook.Outbox.
func (o outbox) Record(ctx context.Context, a webhook.Attempt) error {
	return o.s.write(ctx, func(tx *sql.Tx) error {
		var hook sql.NullString
		err := tx.QueryRowContext(ctx, "SELECT webhook_id FROM webhook_deliveries WHERE id = ?", a.DeliveryID).Scan(&hook)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // gone with its webhook
		}
		if err != nil {
			return err
		}
		state, next := 0, int64(0)
		var nextLog any
		switch a.Outcome {
		case webhook.Delivered, webhook.Failed:
			state = int(a.Outcome)
		default:
			next = ms(a.NextAt)
			nextLog = next
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_at = ?, lease_until = 0,
			first_attempt_at = coalesce(first_attempt_at, ?) WHERE id = ?`, state, next, ms(a.StartedAt), a.DeliveryID); err != nil {
			return err
		}
		var errText any
		if a.Error != "" {
			errText = truncate(a.Error, 1000)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO webhook_attempts(webhook_id, `+attemptColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			hook, a.DeliveryID, a.TargetID, a.EventID, a.EventType, a.N, a.StatusCode, errText, int(a.Outcome), ms(a.StartedAt), ms(a.FinishedAt), nextLog)
		return err
	})
}

// Release implements webhook.Outbox.
func (o outbox) Release(ctx context.Context, deliveryID string) error {
	return o.s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE webhook_deliveries SET lease_until = 0 WHERE id = ? AND state = 0", deliveryID)
		return err
	})
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
