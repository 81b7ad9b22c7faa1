// Package page cuts an account's lists into memory.Page values: the
// limit and offset rules of every list and the opaque cursors that
// continue one.
//
// Every list returns a memory.Page whose NextCursor, set exactly when
// HasMore, continues the list, and takes that cursor back (its params'
// Cursor, which wins over Offset). Every list but the keys uses keyset
// cursors: the page's last row's position in the list's order
// (created_at, or a session's started_at, and id), so that rows added or
// removed before it do not shift the next page ([Keyset], [KeysetPage]).
// The keys read by offset, their cursor carrying the next offset
// ([Offset], [OffsetPage]): the key store's Repository, a public interface
// hosts implement, lists by offset, and an account's keys are few and made
// by hand.
//
// A cursor names its list, so a cursor of one list is not valid for
// another: base64url (unpadded) of "list:created_at:offset:id" (keyset,
// created_at in epoch ms) or "list:offset" (offset). A keyset cursor's
// offset only reports where its page starts; its position decides that.
// A cursor is checked for shape and range, not signed: one forged to hold
// another position reads the account's list from there, nothing more.
package page
