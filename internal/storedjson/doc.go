// Package storedjson holds the one rule for JSON objects that are stored
// and later returned to clients (metadata of every kind, a project's
// stack, API key metadata), so that every path that stores one, whichever
// package it is in, checks the same things in the same order.
package storedjson
