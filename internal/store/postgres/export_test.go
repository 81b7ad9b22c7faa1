package postgres

// Classify is classify for the tests of package postgres_test.
var Classify = classify
