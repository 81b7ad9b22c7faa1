package store

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// TestUnavailable: each failure class, however wrapped, is reported with
// its reason; the errors of the rows and a plain error are not.
func TestUnavailable(t *testing.T) {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{fmt.Errorf("read: %w", ErrStatementTimeout), "The storage took too long to answer"},
		{ErrDamaged, "The database is damaged"},
		{&OpenError{Class: ErrNotDatabase}, "The database is damaged"},
		{fmt.Errorf("write: %w", ErrBusy), "The database is busy"},
		{ErrFull, "The storage is full"},
		{fmt.Errorf("x: %w", syscall.ENOSPC), "The storage is full"},
		{ErrReadOnly, "The storage is read-only"},
		{ErrIO, "The storage cannot be read or written"},
		{fmt.Errorf("ping: %w", ErrUnreachable), "The database cannot be reached"},
		{ErrNotFound, ""},
		{ErrForeignKey, ""},
		{ErrClosed, ""},
		{errors.New("other"), ""},
		{nil, ""},
	} {
		reason, ok := Unavailable(c.err)
		if reason != c.reason || ok != (c.reason != "") {
			t.Errorf("Unavailable(%v) = %q, %v; want %q", c.err, reason, ok, c.reason)
		}
	}
}

// TestErrorMatching: ForeignKey and Closed match their sentinels through
// wrapping and nothing else; an OpenError matches its class and its
// cause, and says both.
func TestErrorMatching(t *testing.T) {
	if !ForeignKey(fmt.Errorf("insert: %w", ErrForeignKey)) || ForeignKey(ErrNotFound) || ForeignKey(nil) {
		t.Error("ForeignKey")
	}
	if !Closed(fmt.Errorf("get: %w", ErrClosed)) || Closed(ErrNotFound) || Closed(nil) {
		t.Error("Closed")
	}
	if !errors.Is(ErrEntityNotFound, ErrNotFound) || !errors.Is(ErrMemoryNotFound, ErrNotFound) {
		t.Error("the link errors do not match ErrNotFound")
	}
	cause := errors.New("cause")
	oe := &OpenError{Class: ErrReadOnly, Detail: "the file is not writable", Err: cause}
	if !errors.Is(oe, ErrReadOnly) || !errors.Is(oe, cause) || errors.Is(oe, ErrFull) {
		t.Error("OpenError matches the wrong errors")
	}
	if got, want := oe.Error(), "the file or its file system is read-only: the file is not writable"; got != want {
		t.Errorf("OpenError text %q, want %q", got, want)
	}
	if got := (&OpenError{Class: ErrFull}).Error(); got != ErrFull.Error() {
		t.Errorf("OpenError without detail: %q", got)
	}
}

// TestValidSlug: the slug rule at its limits.
func TestValidSlug(t *testing.T) {
	long := make([]byte, MaxSlug)
	for i := range long {
		long[i] = 'a'
	}
	for s, want := range map[string]bool{
		"web": true, "a": true, "0-x": true, string(long): true, string(long) + "a": false,
		"": false, "-web": false, "Web": false, "we b": false, "wéb": false,
	} {
		if ValidSlug(s) != want {
			t.Errorf("ValidSlug(%q) = %v", s, !want)
		}
	}
	if !ReservedSlug("impact-analysis") || !ReservedSlug("shared-patterns") || ReservedSlug("web") {
		t.Error("ReservedSlug")
	}
}
