package apidocs

import (
	"io/fs"
	"strings"
)

// IsAsset reports whether path is one of the docs page's static assets,
// /api/docs/<name> (not the page itself, not an unknown name). They are
// embedded, identical for every caller and cached for a year under their
// content hash, and one page view loads half a dozen of them: the rate
// limiter exempts them, so that reading the docs does not spend the
// anonymous budget meant for the API.
func IsAsset(path string) bool {
	name, ok := strings.CutPrefix(path, DocsPath)
	if !ok || name == "" || name == "index.html" || strings.ContainsAny(name, "/\\") {
		return false
	}
	_, err := fs.Stat(files, "assets/"+name)
	return err == nil
}
