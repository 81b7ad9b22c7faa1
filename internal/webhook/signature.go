package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery (API.md §10.3).
const (
	// SignatureHeader carries the signature of a delivery to a webhook
	// with a secret (SignAt).
	SignatureHeader = "X-MemoryRelay-Signature"
	// EventHeader carries the event's type, e.g. "memory.created".
	EventHeader = "X-MemoryRelay-Event"
	// DeliveryHeader carries the event's id: the same on every retry and
	// for every webhook, so a receiver can drop duplicates by it.
	DeliveryHeader = "X-MemoryRelay-Delivery"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock in [Verify] when it is given 0.
const DefaultTolerance = 5 * time.Minute

// Errors of [Verify].
var (
	ErrNoSignature  = errors.New("webhook: no signature")
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrStale        = errors.New("webhook: signature timestamp outside the tolerance")
)

// SignAt returns the SignatureHeader value of a delivery body sent at t
// (API.md §10.3): "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">"
// under secret. Each attempt is signed anew with its own time.
func SignAt(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a SignatureHeader value against the raw body a receiver
// got, as a receiver should: the HMAC compared in constant time, and the
// timestamp within tolerance of now (0: DefaultTolerance), which bounds
// replays. Several v1 entries are allowed (any one may match).
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == "" || len(sigs) == 0 {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrNoSignature
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}
