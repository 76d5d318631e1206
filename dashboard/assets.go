package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// files are the page's files: index.html, dashboard.js, dashboard.css.
//
//go:embed assets
var files embed.FS

// assetsDir is the directory of files that holds the page.
const assetsDir = "assets"

// contentTypes are the media types of the files, by extension. A file of
// another kind in assets/ is a mistake that loadAssets reports.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// asset is one file, ready to serve.
type asset struct {
	name        string // file name, for http.ServeContent
	contentType string
	etag        string // strong validator: a digest of body
	body        []byte
}

// loadAssets reads the files of dir in fsys into a table by URL path
// ("/dashboard.js"); index.html is also "/". Subdirectories are not
// served.
func loadAssets(fsys fs.FS, dir string) (map[string]*asset, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("dashboard: read embedded %s: %w", dir, err)
	}
	table := map[string]*asset{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		ct, ok := contentTypes[strings.ToLower(path.Ext(name))]
		if !ok {
			return nil, fmt.Errorf("dashboard: embedded %s/%s: no content type for %q files", dir, name, path.Ext(name))
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("dashboard: read embedded %s/%s: %w", dir, name, err)
		}
		sum := sha256.Sum256(body)
		table["/"+name] = &asset{name: name, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, body: body}
	}
	index, ok := table["/index.html"]
	if !ok {
		return nil, fmt.Errorf("dashboard: embedded %s has no index.html", dir)
	}
	table["/"] = index
	return table, nil
}
