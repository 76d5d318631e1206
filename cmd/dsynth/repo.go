package main

import (
	"context"
	"errors"
)

// rebuildRepository is the repository step (issue 5 builds it).
func rebuildRepository(ctx context.Context, r *runner) error {
	return errors.New("rebuild-repository is not available yet in go-dsynth")
}
