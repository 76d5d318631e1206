package mock

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
)

func TestMock(t *testing.T) {
	e := &Env{Handler: func(_ context.Context, c environment.Command) (environment.Result, error) {
		if c.Stdout != nil {
			fmt.Fprintln(c.Stdout, "ran", c.Args[0])
		}
		return environment.Result{ExitCode: len(c.Args)}, nil
	}}
	if _, err := e.Execute(context.Background(), environment.Command{Args: []string{"x"}}); !errors.Is(err, environment.ErrNotReady) {
		t.Fatalf("before Setup: %v", err)
	}
	if err := e.Setup(context.Background(), environment.Plan{Name: "SL00"}); err != nil {
		t.Fatal(err)
	}
	res, err := e.Execute(context.Background(), environment.Command{Args: []string{"make", "build"}, Dir: "/xports"})
	if err != nil || res.ExitCode != 2 {
		t.Fatalf("got %+v %v", res, err)
	}
	if c := e.Calls(); len(c) != 1 || c[0].Args[1] != "build" || c[0].Dir != "/xports" {
		t.Errorf("calls %+v", c)
	}
	e.Teardown()
	e.Teardown()
	if e.SetUp() || e.Teardowns() != 2 || e.Plan().Name != "SL00" {
		t.Error("state after teardown")
	}
	bad := &Env{Validate: true}
	if err := bad.Setup(context.Background(), environment.Plan{Name: "SL01"}); !errors.Is(err, environment.ErrInvalidPlan) {
		t.Errorf("validate: %v", err)
	}
}
