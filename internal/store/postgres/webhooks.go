package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/webhook"
	"github.com/memoryrelay/memoryrelay/secret"
)

// migrationHosted is migration 4: webhooks and their durable outbox
// (API.md §10.3), the bring-your-own extraction keys (§10.7) and entity
// extraction's columns (§10.6), as SQLite's migrations 7, 8 and 10.
const migrationHosted = `
CREATE TABLE webhooks (
	id          text COLLATE "C" PRIMARY KEY,
	account_id  text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	url         text NOT NULL,
	event_mask  bigint NOT NULL DEFAULT 0,    -- webhook.Mask; 0: every type
	secret      bytea,
	description text,
	enabled     boolean NOT NULL DEFAULT true,
	created_at  bigint NOT NULL,
	updated_at  bigint NOT NULL
);
CREATE INDEX webhooks_account ON webhooks(account_id, created_at DESC, id DESC);

CREATE TABLE webhook_events (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text NOT NULL UNIQUE,
	account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	type       text NOT NULL,
	data       text NOT NULL,
	created_at bigint NOT NULL
);

-- The outbox: one row per (event, receiver), in write order (seq).
CREATE TABLE webhook_deliveries (
	seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id               text NOT NULL UNIQUE,
	event_seq        bigint NOT NULL REFERENCES webhook_events(seq) ON DELETE CASCADE,
	webhook_id       text REFERENCES webhooks(id) ON DELETE CASCADE, -- NULL: to url
	url              text,                   -- a v2 webhook_url, when webhook_id is NULL
	receiver         text NOT NULL,          -- webhook.Target.ID
	subject          text NOT NULL DEFAULT '',
	state            integer NOT NULL DEFAULT 0, -- 0 pending, else a webhook.Outcome that ended it
	attempts         integer NOT NULL DEFAULT 0,
	next_at          bigint NOT NULL DEFAULT 0,
	lease_until      bigint NOT NULL DEFAULT 0,
	first_attempt_at bigint,
	created_at       bigint NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE state = 0;
CREATE INDEX webhook_deliveries_order ON webhook_deliveries(receiver, subject, seq) WHERE state = 0;
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_seq);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id);

CREATE TABLE webhook_attempts (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	webhook_id  text REFERENCES webhooks(id) ON DELETE CASCADE,
	receiver    text NOT NULL,
	delivery_id text NOT NULL,
	event_id    text NOT NULL,
	event_type  text NOT NULL,
	attempt     integer NOT NULL,
	status_code integer NOT NULL,
	error       text,
	outcome     integer NOT NULL,
	started_at  bigint NOT NULL,
	finished_at bigint NOT NULL,
	next_at     bigint
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts(webhook_id, id);
CREATE INDEX webhook_attempts_finished ON webhook_attempts(finished_at);

CREATE TABLE extraction_keys (
	id                text COLLATE "C" PRIMARY KEY,
	account_id        text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	provider          text NOT NULL,
	label             text,
	model             text NOT NULL,
	base_url          text,
	sealed            bytea NOT NULL,
	masked            text NOT NULL,
	active            boolean NOT NULL DEFAULT false,
	last_validated_at bigint,
	last_used_at      bigint,
	created_at        bigint NOT NULL,
	updated_at        bigint NOT NULL
);
CREATE INDEX extraction_keys_account ON extraction_keys(account_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX extraction_keys_active ON extraction_keys(account_id) WHERE active;

ALTER TABLE memories ADD COLUMN extraction_status text;
ALTER TABLE memories ADD COLUMN extraction_method text;
ALTER TABLE memories ADD COLUMN extraction_model text;
ALTER TABLE entity_links ADD COLUMN confidence double precision NOT NULL DEFAULT 1.0;
CREATE INDEX entities_account_type_name ON entities(account_id, type, lower(name));
`

const webhookColumns = `id, account_id, url, event_mask, secret, description, enabled, created_at, updated_at`

func scanWebhook(r rowScanner) (store.Webhook, error) {
	var w store.Webhook
	var created, updated, mask int64
	if err := r.Scan(&w.ID, &w.AccountID, &w.URL, &mask, &w.Secret, &w.Description, &w.Enabled, &created, &updated); err != nil {
		return store.Webhook{}, err
	}
	w.EventTypes = uint(mask)
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(updated)
	return w, nil
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// CreateWebhook stores a new webhook of w.AccountID, unless the account
// has max already (ErrTooMany; max 0: no limit); the count and the insert
// are one transaction, under the account's row lock so that nodes
// creating at once take turns.
func (s *Store) CreateWebhook(ctx context.Context, w store.Webhook, max int) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if max > 0 {
			if _, err := tx.Exec(ctx, "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", w.AccountID); err != nil {
				return err
			}
			n, err := queryValue[int](ctx, tx, "SELECT count(*) FROM webhooks WHERE account_id = $1", w.AccountID)
			if err != nil {
				return err
			}
			if n >= max {
				return store.ErrTooMany
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO webhooks(`+webhookColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			w.ID, w.AccountID, w.URL, int64(w.EventTypes), nullBytes(w.Secret), w.Description, w.Enabled, ms(w.CreatedAt), ms(w.UpdatedAt))
		return err
	})
}

// Webhook returns the account's webhook, or ErrNotFound.
func (s *Store) Webhook(ctx context.Context, accountID, id string) (store.Webhook, error) {
	var w store.Webhook
	err := s.do(ctx, func(q querier) error {
		var err error
		w, err = queryOne(ctx, q, scanWebhook, "SELECT "+webhookColumns+" FROM webhooks WHERE account_id = $1 AND id = $2", accountID, id)
		return err
	})
	return w, err
}

// Webhooks returns a page of the account's webhooks, newest first, and
// their total.
func (s *Store) Webhooks(ctx context.Context, accountID string, limit, offset int) ([]store.Webhook, int, error) {
	var out []store.Webhook
	var total int
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		l := listQuery{columns: webhookColumns, from: "webhooks", cond: "account_id = $1", at: "created_at", id: "id"}
		out, total, err = queryPage(ctx, tx, scanWebhook, l, params{accountID}, limit, offset, nil)
		return err
	})
	return out, total, err
}

// CountWebhooks returns how many webhooks the account has.
func (s *Store) CountWebhooks(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.do(ctx, func(q querier) error {
		var err error
		n, err = queryValue[int](ctx, q, "SELECT count(*) FROM webhooks WHERE account_id = $1", accountID)
		return err
	})
	return n, err
}

// UpdateWebhook changes the account's webhook by apply, in one
// transaction (its row locked), and returns it as stored; ErrNotFound if
// there is none. apply may not change the id or the account.
func (s *Store) UpdateWebhook(ctx context.Context, accountID, id string, apply func(*store.Webhook) error) (store.Webhook, error) {
	var out store.Webhook
	err := s.write(ctx, func(tx pgx.Tx) error {
		w, err := queryOne(ctx, tx, scanWebhook, "SELECT "+webhookColumns+" FROM webhooks WHERE account_id = $1 AND id = $2 FOR UPDATE", accountID, id)
		if err != nil {
			return err
		}
		if err := apply(&w); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE webhooks SET url = $1, event_mask = $2, secret = $3, description = $4, enabled = $5, updated_at = $6
			WHERE account_id = $7 AND id = $8`, w.URL, int64(w.EventTypes), nullBytes(w.Secret), w.Description, w.Enabled, ms(w.UpdatedAt), accountID, id)
		out = w
		return err
	})
	return out, err
}

// DeleteWebhook deletes the account's webhook with its queued deliveries
// and its log; ErrNotFound if there is none.
func (s *Store) DeleteWebhook(ctx context.Context, accountID, id string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		n, err := affected(tx.Exec(ctx, "DELETE FROM webhooks WHERE account_id = $1 AND id = $2", accountID, id))
		if err != nil {
			return err
		}
		if n == 0 {
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
	err := s.write(ctx, func(tx pgx.Tx) error {
		n = 0
		ids, err := queryAll(ctx, tx, scanValue[string], `SELECT id FROM webhooks WHERE account_id = $1 AND enabled AND (event_mask = 0 OR event_mask & $2 != 0) ORDER BY created_at, id`,
			accountID, int64(e.Bit))
		if err != nil {
			return err
		}
		if len(ids) == 0 && e.URL == "" {
			return nil
		}
		var seq int64
		if err := tx.QueryRow(ctx, `INSERT INTO webhook_events(id, account_id, type, data, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING seq`,
			e.ID, accountID, e.Type, string(e.Data), ms(e.CreatedAt)).Scan(&seq); err != nil {
			return err
		}
		now := ms(e.CreatedAt)
		for _, id := range ids {
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries(id, event_seq, webhook_id, receiver, subject, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				uuid.New(), seq, id, id, e.Subject, now); err != nil {
				return err
			}
			n++
		}
		if e.URL != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries(id, event_seq, url, receiver, subject, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
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
	err := s.read(ctx, func(tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM webhooks WHERE account_id = $1 AND id = $2", accountID, id); err != nil || !ok {
			if err == nil {
				err = store.ErrNotFound
			}
			return err
		}
		var err error
		out, err = queryAll(ctx, tx, scanAttempt, `SELECT `+attemptColumns+` FROM webhook_attempts WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`, id, limit)
		return err
	})
	return out, err
}

const attemptColumns = `delivery_id, receiver, event_id, event_type, attempt, status_code, error, outcome, started_at, finished_at, next_at`

func scanAttempt(r rowScanner) (webhook.Attempt, error) {
	var a webhook.Attempt
	var errText *string
	var started, finished int64
	var next *int64
	var outcome int
	if err := r.Scan(&a.DeliveryID, &a.TargetID, &a.EventID, &a.EventType, &a.N, &a.StatusCode, &errText, &outcome, &started, &finished, &next); err != nil {
		return webhook.Attempt{}, err
	}
	if errText != nil {
		a.Error = *errText
	}
	a.Outcome = webhook.Outcome(outcome)
	a.StartedAt, a.FinishedAt = fromMS(started), fromMS(finished)
	if next != nil {
		a.NextAt = fromMS(*next)
	}
	return a, nil
}

// PruneWebhookLog deletes what is older than before: ended deliveries,
// events none of whose deliveries is pending, and logged attempts. It
// returns how many attempts it deleted.
func (s *Store) PruneWebhookLog(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		b := ms(before)
		if _, err := tx.Exec(ctx, "DELETE FROM webhook_deliveries WHERE state != 0 AND created_at < $1", b); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_events WHERE created_at < $1
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = webhook_events.seq)`, b); err != nil {
			return err
		}
		var err error
		n, err = affected(tx.Exec(ctx, "DELETE FROM webhook_attempts WHERE finished_at < $1", b))
		return err
	})
	return int(n), err
}

// WebhookOutbox returns the store as the dispatcher's [webhook.Outbox].
func (s *Store) WebhookOutbox() webhook.Outbox { return outbox{s: s} }

type outbox struct{ s *Store }

var _ webhook.Outbox = outbox{}

// claimQuery selects the due heads of (receiver, subject), at most
// PerTarget ($2) per receiver, oldest first, at most $3 rows. The
// candidates' rows are locked (FOR UPDATE SKIP LOCKED), so that nodes
// claiming at once take different deliveries and none waits on another;
// a head whose row another node holds is skipped, and so is what follows
// it (its predecessor is still pending).
const claimQuery = `
WITH due AS (
	SELECT d.seq FROM webhook_deliveries d
	LEFT JOIN webhooks w ON w.id = d.webhook_id
	WHERE d.state = 0 AND d.next_at <= $1 AND d.lease_until <= $1
		AND (d.webhook_id IS NULL OR w.enabled)
		AND (d.subject = '' OR NOT EXISTS (
			SELECT 1 FROM webhook_deliveries p
			WHERE p.receiver = d.receiver AND p.subject = d.subject AND p.state = 0 AND p.seq < d.seq))
	ORDER BY d.seq
	FOR UPDATE OF d SKIP LOCKED
), cand AS (
	SELECT d.seq, d.id, d.receiver, d.subject, d.attempts, d.first_attempt_at,
		coalesce(w.url, d.url) AS url, w.secret,
		e.id AS event_id, e.type, e.created_at AS event_at, e.data,
		row_number() OVER (PARTITION BY d.receiver ORDER BY d.seq) AS rn
	FROM due
	JOIN webhook_deliveries d ON d.seq = due.seq
	JOIN webhook_events e ON e.seq = d.event_seq
	LEFT JOIN webhooks w ON w.id = d.webhook_id
)
SELECT seq, id, receiver, subject, attempts, first_attempt_at, url, secret, event_id, type, event_at, data
FROM cand WHERE rn <= $2 ORDER BY seq LIMIT $3`

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
	err := o.s.write(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		taken := map[string]int{}
		var seqs []int64
		err := queryEach(ctx, tx, func(r rowScanner) error {
			var d webhook.Delivery
			var seq, at int64
			var first *int64
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
			if first != nil {
				d.FirstAttemptAt = fromMS(*first)
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
		_, err = tx.Exec(ctx, "UPDATE webhook_deliveries SET lease_until = $1 WHERE seq = ANY($2)", ms(c.LeaseUntil), seqs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Record implements webhook.Outbox.
func (o outbox) Record(ctx context.Context, a webhook.Attempt) error {
	return o.s.write(ctx, func(tx pgx.Tx) error {
		var hook *string
		err := tx.QueryRow(ctx, "SELECT webhook_id FROM webhook_deliveries WHERE id = $1 FOR UPDATE", a.DeliveryID).Scan(&hook)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // gone with its webhook
		}
		if err != nil {
			return err
		}
		state, next := 0, int64(0)
		var nextLog *int64
		switch a.Outcome {
		case webhook.Delivered, webhook.Failed:
			state = int(a.Outcome)
		default:
			next = ms(a.NextAt)
			nextLog = &next
		}
		if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, next_at = $2, lease_until = 0,
			first_attempt_at = coalesce(first_attempt_at, $3) WHERE id = $4`, state, next, ms(a.StartedAt), a.DeliveryID); err != nil {
			return err
		}
		var errText *string
		if a.Error != "" {
			t := truncate(a.Error, 1000)
			errText = &t
		}
		_, err = tx.Exec(ctx, `INSERT INTO webhook_attempts(webhook_id, `+attemptColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			hook, a.DeliveryID, a.TargetID, a.EventID, a.EventType, a.N, a.StatusCode, errText, int(a.Outcome), ms(a.StartedAt), ms(a.FinishedAt), nextLog)
		return err
	})
}

// Release implements webhook.Outbox.
func (o outbox) Release(ctx context.Context, deliveryID string) error {
	return o.s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE webhook_deliveries SET lease_until = 0 WHERE id = $1 AND state = 0", deliveryID)
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
