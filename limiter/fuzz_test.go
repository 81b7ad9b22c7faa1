package limiter_test

import (
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/limiter"
)

// FuzzAllowAt drives a small limiter with arbitrary keys, limits and clock
// steps (sometimes backwards) and checks the invariants every Decision
// promises.
func FuzzAllowAt(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 5, 10, 2, 0, 200, 3, 9, 255})
	f.Add([]byte{7, 1, 1, 7, 1, 1, 7, 1, 1, 7, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const maxKeys = 4
		l := newLocal(t, limiter.Options{Limit: 5, Window: 10 * time.Second, MaxKeys: maxKeys})
		now := t0
		for i := 0; i+2 < len(ops); i += 3 {
			key := string(rune('a' + ops[i]%7))
			limit := int(ops[i+1]%8) - 1 // -1 and 0 mean the default
			// Forward by up to 12.7 s in 100 ms steps; about 1 step in 16 goes back.
			step := time.Duration(ops[i+2]&0x7f) * 100 * time.Millisecond
			if ops[i+2]&0x80 != 0 && ops[i+2]%16 == 0 {
				step = -step
			}
			now = now.Add(step)

			d := l.AllowAt(key, limit, now)
			wantLimit := limit
			if wantLimit <= 0 {
				wantLimit = 5
			}
			switch {
			case d.Limit != wantLimit:
				t.Fatalf("op %d: Limit %d; want %d", i/3, d.Limit, wantLimit)
			case d.Remaining < 0 || d.Remaining >= wantLimit:
				t.Fatalf("op %d: Remaining %d outside [0, %d)", i/3, d.Remaining, wantLimit)
			case d.Reset.Before(now):
				t.Fatalf("op %d: Reset %v before now %v", i/3, d.Reset, now)
			case d.ResetUnix() < now.Unix():
				t.Fatalf("op %d: ResetUnix %d before now %d", i/3, d.ResetUnix(), now.Unix())
			case d.Allowed && (d.RetryAfter != 0 || d.Err() != nil):
				t.Fatalf("op %d: allowed with RetryAfter %v, Err %v", i/3, d.RetryAfter, d.Err())
			case !d.Allowed && (d.Remaining != 0 || d.RetryAfter < time.Second || d.RetryAfter%time.Second != 0 || d.Err() == nil):
				t.Fatalf("op %d: denied with %+v", i/3, d)
			}
			if n := l.Len(); n > maxKeys {
				t.Fatalf("op %d: Len %d > MaxKeys %d", i/3, n, maxKeys)
			}
		}
	})
}
