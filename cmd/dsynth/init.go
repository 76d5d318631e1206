package main

import (
	"context"
	"errors"
)

func runInit(_ context.Context, r *runner, _ []string) error {
	return errors.New("init: not implemented yet")
}
