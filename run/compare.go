package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/reproduce"
)

// Record returns the owner's build record id (GET /api/v1/records/{id}).
func (c *Client) Record(ctx context.Context, id uuid.UUID) (*builddb.BuildRecord, error) {
	data, err := c.call(ctx, http.MethodGet, "/api/v1/records/"+id.String(), nil)
	if err != nil {
		return nil, notFound(err, "build "+id.String())
	}
	var r builddb.BuildRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("owner socket %s: record: %w", c.sock, err)
	}
	return &r, nil
}

// RunRecords returns the build records of the owner's run (GET
// /api/v1/runs/{id}).
func (c *Client) RunRecords(ctx context.Context, run uuid.UUID) ([]*builddb.BuildRecord, error) {
	data, err := c.call(ctx, http.MethodGet, "/api/v1/runs/"+run.String(), nil)
	if err != nil {
		return nil, notFound(err, "run "+run.String())
	}
	var rd api.RunData
	if err := json.Unmarshal(data, &rd); err != nil {
		return nil, fmt.Errorf("owner socket %s: run: %w", c.sock, err)
	}
	return rd.Builds, nil
}

// notFound wraps builddb.ErrNotFound into an answer of 404.
func notFound(err error, what string) error {
	var e *api.Error
	if errors.As(err, &e) && e.HTTPStatus == http.StatusNotFound {
		return fmt.Errorf("%s: %w", what, builddb.ErrNotFound)
	}
	return err
}

// clientRecords adapts a Client to reproduce.Records.
type clientRecords struct {
	ctx context.Context
	c   *Client
}

func (r clientRecords) Get(id uuid.UUID) (*builddb.BuildRecord, error) { return r.c.Record(r.ctx, id) }
func (r clientRecords) RunRecords(run uuid.UUID) ([]*builddb.BuildRecord, error) {
	return r.c.RunRecords(r.ctx, run)
}

// withRecords runs fn with the build base's records: the owner's, over
// its socket, when a process owns the build base, else the file's,
// opened read-only for the time of fn.
func withRecords(ctx context.Context, base string, fn func(reproduce.Records) error) error {
	c, err := Dial(base)
	if err == nil {
		defer c.Close()
		return fn(clientRecords{ctx: ctx, c: c})
	}
	if !errors.Is(err, ErrNoOwner) {
		return err
	}
	path := builddb.Path(base)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no build database at %s yet (it is created by the first build)", path)
	}
	db, err := builddb.OpenReader(base, builddb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

// ShowBuild returns build id's record (`dsynth db show`).
func ShowBuild(ctx context.Context, cfg *config.Config, id uuid.UUID) (*builddb.BuildRecord, error) {
	var rec *builddb.BuildRecord
	err := withRecords(ctx, cfg.Profile.BuildBase, func(rs reproduce.Records) error {
		var err error
		rec, err = rs.Get(id)
		return err
	})
	return rec, err
}

// CompareBuilds compares the two builds args name (reproduce.Resolve:
// two build UUIDs, or a port and two run UUIDs). Their packages are
// looked for by SHA-256 in the repository, then in dirs.
func CompareBuilds(ctx context.Context, cfg *config.Config, args []string, dirs []string) (*reproduce.Comparison, error) {
	var a, b *builddb.BuildRecord
	err := withRecords(ctx, cfg.Profile.BuildBase, func(rs reproduce.Records) error {
		var err error
		a, b, err = reproduce.Resolve(rs, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	c := reproduce.Compare(a, b, append([]string{cfg.Profile.RepositoryDir}, dirs...))
	return &c, nil
}
