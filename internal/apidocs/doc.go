// Package apidocs serves Blip's API description: the OpenAPI 3.1 document
// of every route (GET /api/schema/) and an interactive reference built on a
// vendored Swagger UI (GET /api/docs/), whose files are embedded in the
// binary so that the page works offline and under the default, enforced
// Content-Security-Policy (no inline script or style, no CDN).
//
// The package imports only the standard library, so httpapi can mount its
// handlers without pulling anything else in:
//
//	rt.handle("GET "+apidocs.SchemaPath, apidocs.SchemaHandler(version))
//	docs := apidocs.DocsHandler()
//	rt.handle("GET "+apidocs.DocsPath, docs)                // /api/docs/ and /api/docs
//	rt.handle("GET "+apidocs.DocsPath+"{asset...}", docs)   // /api/docs/<asset>
package apidocs
