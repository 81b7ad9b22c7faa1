//go:build race

package lexical_test

func init() { raceEnabled = true }
