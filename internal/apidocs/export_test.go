package apidocs

// AcceptsGzip exposes acceptsGzip to the external tests.
var AcceptsGzip = acceptsGzip
