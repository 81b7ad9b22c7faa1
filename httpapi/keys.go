package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Key management (API contract §9, in the hosted shape of §10.2), admin
// scope only. The raw key appears in the create and rotate responses and
// nowhere else.

func (h *handler) keyRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/keys", true, scopes.Admin, h.createKey},
		{http.MethodGet, "/v1/keys", true, scopes.Admin, h.listKeys},
		{http.MethodGet, "/v1/keys/{id}", true, scopes.Admin, h.getKey},
		{http.MethodDelete, "/v1/keys/{id}", true, scopes.Admin, h.revokeKey},
		{http.MethodPost, "/v1/keys/{id}/rotate", true, scopes.Admin, h.rotateKey},
		{http.MethodPatch, "/v1/keys/{id}", true, scopes.Admin, h.updateKey},
	}
}

// keyInfoJSON is a key in the hosted shape (API.md §10.2): the 201's
// nested key_info, and the fields every Key object carries flat.
type keyInfoJSON struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	KeyPrefix    string   `json:"key_prefix"`
	Scopes       []string `json:"scopes"`
	CreatedAt    string   `json:"created_at"`
	LastUsedAt   *string  `json:"last_used_at"`
	ExpiresAt    *string  `json:"expires_at"`
	RevokedAt    *string  `json:"revoked_at"`
	DeprecatedAt *string  `json:"deprecated_at"`
	AutoRevokeAt *string  `json:"auto_revoke_at"`
	IsActive     bool     `json:"is_active"`
	// What the key's requests cost the server (a priced embedder's
	// tokens), and its limits; null is unlimited.
	DailySpendLimitUSD   *float64      `json:"daily_spend_limit_usd"`
	MonthlySpendLimitUSD *float64      `json:"monthly_spend_limit_usd"`
	SpendInfo            spendInfoJSON `json:"spend_info"`
}

type spendInfoJSON struct {
	TodayUSD        float64  `json:"today_usd"`
	MonthUSD        float64  `json:"month_usd"`
	DailyLimitUSD   *float64 `json:"daily_limit_usd"`
	MonthlyLimitUSD *float64 `json:"monthly_limit_usd"`
}

// keyJSON is the Key object: §9's fields and §10.2's, flat.
type keyJSON struct {
	keyInfoJSON
	Prefix    string          `json:"prefix"`
	Metadata  json.RawMessage `json:"metadata"`
	RateLimit *int            `json:"rate_limit"`
}

// keyWithSecretJSON is a Key plus its raw secret and the nested key_info:
// create and rotate only.
type keyWithSecretJSON struct {
	keyJSON
	Key     string      `json:"key"`
	KeyInfo keyInfoJSON `json:"key_info"`
}

func toKeyInfo(k keys.Key, now time.Time) keyInfoJSON {
	return keyInfoJSON{
		ID: k.ID, Name: k.Name, KeyPrefix: k.Prefix, Scopes: k.Scopes.Strings(), CreatedAt: isoTime(k.CreatedAt),
		LastUsedAt: isoPtr(k.LastUsedAt), ExpiresAt: isoPtr(k.ExpiresAt), RevokedAt: isoPtr(k.RevokedAt),
		DeprecatedAt: isoPtr(k.DeprecatedAt), AutoRevokeAt: isoPtr(k.GraceUntil), IsActive: k.IsActive(now),
		DailySpendLimitUSD: k.DailySpendLimit, MonthlySpendLimitUSD: k.MonthlySpendLimit,
		SpendInfo: spendInfoOf(k, now),
	}
}

// spendInfoOf is a key's spend_info at now: its current day's and
// month's spend in USD, and its limits.
func spendInfoOf(k keys.Key, now time.Time) spendInfoJSON {
	day, month := k.Spend.At(now)
	return spendInfoJSON{TodayUSD: float64(day) / 1e9, MonthUSD: float64(month) / 1e9,
		DailyLimitUSD: k.DailySpendLimit, MonthlyLimitUSD: k.MonthlySpendLimit}
}

func toKey(k keys.Key, now time.Time) keyJSON {
	out := keyJSON{keyInfoJSON: toKeyInfo(k, now), Prefix: k.Prefix, Metadata: objectOrEmpty(k.Metadata)}
	if k.RateLimit > 0 {
		out.RateLimit = &k.RateLimit
	}
	return out
}

func withSecret(k keys.Key, tok keys.Token, now time.Time) keyWithSecretJSON {
	return keyWithSecretJSON{keyJSON: toKey(k, now), Key: tok.Reveal(), KeyInfo: toKeyInfo(k, now)}
}

// defaultScopes are the scopes of a key created without any (§10.2).
var defaultScopes = scopes.NewSet(scopes.Read, scopes.Write)

type createKeyReq struct {
	Name        *string         `json:"name"`
	Scopes      []string        `json:"scopes"`
	ExpiresAt   *string         `json:"expires_at"`
	ExpiresDays optInt          `json:"expires_days"`
	RateLimit   optInt          `json:"rate_limit"`
	Metadata    json.RawMessage `json:"metadata"`
	// null is unlimited, as absent is.
	DailySpendLimitUSD   *float64 `json:"daily_spend_limit_usd"`
	MonthlySpendLimitUSD *float64 `json:"monthly_spend_limit_usd"`
}

func (h *handler) createKey(w http.ResponseWriter, r *http.Request) {
	var req createKeyReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	// Only what the body's shape decides is checked here (the defaults of
	// §10.2 included); the key store checks the fields for every path.
	// Absent or null: the default; present: as given ("" and [] refused).
	in := memory.NewKey{RateLimit: req.RateLimit.v, Metadata: req.Metadata, Scopes: defaultScopes,
		DailySpendLimit: req.DailySpendLimitUSD, MonthlySpendLimit: req.MonthlySpendLimitUSD}
	if req.Name != nil {
		if *req.Name == "" {
			h.writeError(w, r, badField("name", "name must be 1-"+strconv.Itoa(keys.MaxName)+" characters"))
			return
		}
		in.Name = *req.Name // "" to the store: keys.DefaultName
	}
	if req.Scopes != nil {
		set, err := scopes.ParseSet(req.Scopes)
		if err != nil || set.IsEmpty() {
			h.writeError(w, r, badField("scopes", "scopes must be a non-empty list of read, write, delete, admin"))
			return
		}
		in.Scopes = set
	}
	switch {
	case req.ExpiresAt != nil && req.ExpiresDays.set:
		h.writeError(w, r, badField("expires_days", "expires_days and expires_at cannot both be given"))
		return
	case req.ExpiresAt != nil:
		t, err := time.Parse(time.RFC3339Nano, *req.ExpiresAt)
		if err != nil {
			h.writeError(w, r, badField("expires_at", "expires_at must be an ISO-8601 date-time such as 2026-12-31T23:59:59Z"))
			return
		}
		in.ExpiresAt = &t
	case req.ExpiresDays.set:
		d := req.ExpiresDays.v
		if d < keys.MinExpiresDays || d > keys.MaxExpiresDays {
			h.writeError(w, r, badField("expires_days", "expires_days must be an integer between "+strconv.Itoa(keys.MinExpiresDays)+" and "+strconv.Itoa(keys.MaxExpiresDays)))
			return
		}
		t := h.opts.Now().Add(time.Duration(d) * 24 * time.Hour)
		in.ExpiresAt = &t
	}
	k, tok, err := h.account(r).Keys().Create(r.Context(), in)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, withSecret(k, tok, h.opts.Now()))
}

func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	var p memory.PageParams
	if err := pageParams(r, memory.MaxPageLimit, &p.Limit, &p.Offset, &p.Cursor); err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.account(r).Keys().List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	now := h.opts.Now()
	writeJSON(w, http.StatusOK, toList(page, func(k keys.Key) keyJSON { return toKey(k, now) }))
}

func (h *handler) getKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.account(r).Keys().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toKey(k, h.opts.Now()))
}

// keyAckJSON answers a revoke: the delete ack and the revoked Key (our
// extension: the Key's fields beside the ack's).
type keyAckJSON struct {
	Success bool `json:"success"`
	Deleted bool `json:"deleted"`
	keyJSON
}

func (h *handler) revokeKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.account(r).Keys().Revoke(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keyAckJSON{Success: true, Deleted: true, keyJSON: toKey(k, h.opts.Now())})
}

// updateKeyReq is the body of PATCH /v1/keys/{id} (API.md §10.2). A
// spend limit sent as null is removed (unlimited), as §10.2 defines null
// for it; absent leaves it as it is.
type updateKeyReq struct {
	Name                 *string         `json:"name"`
	Metadata             json.RawMessage `json:"metadata"`
	DailySpendLimitUSD   optLimit        `json:"daily_spend_limit_usd"`
	MonthlySpendLimitUSD optLimit        `json:"monthly_spend_limit_usd"`
}

// optLimit is a spend limit that may be absent, null or a number.
type optLimit struct {
	set bool
	usd *float64
}

var optLimitType = reflect.TypeFor[optLimit]()

func (o *optLimit) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.usd = nil
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[float64]()}
	}
	o.usd = &v
	return nil
}

func (h *handler) updateKey(w http.ResponseWriter, r *http.Request) {
	var req updateKeyReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	p := memory.KeyPatch{Name: req.Name,
		DailySpendLimit:   keys.LimitChange{Set: req.DailySpendLimitUSD.set, USD: req.DailySpendLimitUSD.usd},
		MonthlySpendLimit: keys.LimitChange{Set: req.MonthlySpendLimitUSD.set, USD: req.MonthlySpendLimitUSD.usd}}
	if len(req.Metadata) > 0 && string(req.Metadata) != "null" {
		p.Metadata = req.Metadata
	}
	k, err := h.account(r).Keys().Update(r.Context(), r.PathValue("id"), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toKey(k, h.opts.Now()))
}

type rotateKeyReq struct {
	GraceSeconds optInt `json:"grace_seconds"`
}

func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request) {
	var req rotateKeyReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	// Seconds beyond the range are passed on just outside it, so that the
	// key store refuses them (after the id is checked, as ever) and no
	// count of seconds overflows a time.Duration.
	maxGrace := int(keys.MaxGrace / time.Second)
	grace := time.Duration(min(max(req.GraceSeconds.v, -1), maxGrace+1)) * time.Second
	k, tok, err := h.account(r).Keys().Rotate(r.Context(), r.PathValue("id"), grace)
	var verr *memory.ValidationError
	if errors.As(err, &verr) && verr.Field() == "grace" {
		// The range in the request's unit.
		err = badField("grace_seconds", "grace_seconds must be between 0 and "+strconv.Itoa(maxGrace))
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, withSecret(k, tok, h.opts.Now()))
}
