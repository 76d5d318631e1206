package reproduce

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
)

// ErrUsage marks arguments that name no comparison.
var ErrUsage = errors.New("compare takes two build UUIDs, or a port and two run UUIDs")

// Records reads build records: *builddb.DB, or a client of the build
// base's owner. Both return errors wrapping builddb.ErrNotFound for what
// does not exist.
type Records interface {
	Get(id uuid.UUID) (*builddb.BuildRecord, error)
	RunRecords(run uuid.UUID) ([]*builddb.BuildRecord, error)
}

// Resolve returns the two build records that args name: two build
// UUIDs, or a port origin and two run UUIDs (the port's build in each
// run: its last success there, else its last attempt).
func Resolve(db Records, args []string) (a, b *builddb.BuildRecord, err error) {
	switch len(args) {
	case 2:
		ids, err := parseIDs("build", args)
		if err != nil {
			return nil, nil, err
		}
		if a, err = getBuild(db, ids[0]); err != nil {
			return nil, nil, err
		}
		if b, err = getBuild(db, ids[1]); err != nil {
			return nil, nil, err
		}
		return a, b, nil
	case 3:
		ids, err := parseIDs("run", args[1:])
		if err != nil {
			return nil, nil, err
		}
		if a, err = RunBuild(db, args[0], ids[0]); err != nil {
			return nil, nil, err
		}
		if b, err = RunBuild(db, args[0], ids[1]); err != nil {
			return nil, nil, err
		}
		return a, b, nil
	}
	return nil, nil, ErrUsage
}

func parseIDs(what string, args []string) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, len(args))
	for i, s := range args {
		u, err := uuid.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %q is not a %s UUID", ErrUsage, s, what)
		}
		out[i] = u
	}
	return out, nil
}

func getBuild(db Records, id uuid.UUID) (*builddb.BuildRecord, error) {
	r, err := db.Get(id)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", id, err)
	}
	return r, nil
}

// RunBuild returns origin's build in run: its last success there, else
// its last attempt.
func RunBuild(db Records, origin string, run uuid.UUID) (*builddb.BuildRecord, error) {
	recs, err := db.RunRecords(run)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", run, err)
	}
	var last, good *builddb.BuildRecord
	for _, r := range recs {
		if r.Origin() != origin && r.ID.PortDir != origin {
			continue
		}
		if last == nil || r.StartTime.After(last.StartTime) {
			last = r
		}
		if r.Status == builddb.StatusSuccess && (good == nil || r.StartTime.After(good.StartTime)) {
			good = r
		}
	}
	if good != nil {
		return good, nil
	}
	if last == nil {
		return nil, fmt.Errorf("run %s did not build %s (or there is no such run): %w", run, origin, builddb.ErrNotFound)
	}
	return last, nil
}
