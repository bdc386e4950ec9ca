package postgres

// Classify exposes classify to the external tests.
var Classify = classify

// SQLVerb exposes sqlVerb, the span name of a statement.
var SQLVerb = sqlVerb
