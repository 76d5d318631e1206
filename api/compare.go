package api

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/reproduce"
)

// compare serves GET /api/v1/compare?a=BUILD&b=BUILD, or
// ?origin=ORIGIN&a=RUN&b=RUN: what differs between two builds, in their
// recorded inputs and their packages (reproduce.Comparison). The records
// are read in one short transaction; the packages after it.
func (s *Server) compare(r *http.Request) (any, error) {
	q, err := queryOf(r, "a", "b", "origin")
	if err != nil {
		return nil, err
	}
	a, b, origin := q.Get("a"), q.Get("b"), q.Get("origin")
	if a == "" || b == "" {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "compare needs a and b: two build ids, or with origin two run ids")
	}
	args := []string{a, b}
	what := "record"
	if origin != "" {
		cat, port, _ := strings.Cut(origin, "/")
		if _, err := parseOrigin(cat, port); err != nil {
			return nil, err
		}
		args, what = []string{origin, a, b}, "run"
	}
	for _, id := range args[len(args)-2:] {
		if _, err := parseUUID(id, what); err != nil {
			return nil, err
		}
	}
	var ra, rb *builddb.BuildRecord
	err = s.withDB(func(db *builddb.DB) error {
		var err error
		ra, rb, err = reproduce.Resolve(db, args)
		return err
	})
	switch {
	case errors.Is(err, builddb.ErrNotFound):
		return nil, errorf(http.StatusNotFound, CodeRecordNotFound, "%v", err)
	case err != nil:
		return nil, err
	}
	c := reproduce.Compare(ra, rb, s.packageDirs())
	return &c, nil
}

// packageDirs are the directories searched for packages by SHA-256: the
// repository, then Options.PackageDirs.
func (s *Server) packageDirs() []string {
	var dirs []string
	if s.o.Config != nil && s.o.Config.Profile.RepositoryDir != "" {
		dirs = append(dirs, s.o.Config.Profile.RepositoryDir)
	} else if s.o.Config != nil && s.o.Config.Profile.PackagesDir != "" {
		dirs = append(dirs, filepath.Join(s.o.Config.Profile.PackagesDir, "All"))
	}
	if s.o.PackageDirs != nil {
		dirs = append(dirs, s.o.PackageDirs()...)
	}
	return dirs
}
