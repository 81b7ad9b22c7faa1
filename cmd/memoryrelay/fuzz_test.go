package main

import (
	"errors"
	"testing"
	"time"
)

// FuzzParseExpiry: any -expires value is a time after now or a usage
// error, never a panic or a time in the past.
func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"720h", "1ns", "-1h", "0", "2027-01-02T15:04:05Z", "2020-01-01T00:00:00Z", "tuesday", "", "9999999999h"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseExpiry(s, now)
		var ue *usageError
		switch {
		case err != nil && !errors.As(err, &ue):
			t.Fatalf("%q: not a usage error: %v", s, err)
		case err == nil && got.IsZero():
			t.Fatalf("%q: zero time", s)
		case err == nil && isDuration(s) && !got.After(now):
			t.Fatalf("%q: a duration that is not in the future: %v", s, got)
		}
	})
}

func isDuration(s string) bool {
	_, err := time.ParseDuration(s)
	return err == nil
}
