package builder

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/go-dsynth/go-dsynth/environment"
)

// Fetch phases ask their slot for the network, no other command does; every
// phase runs at dsynth's niceness, none with -N.
func TestRunPhasesNetworkAndNice(t *testing.T) {
	for _, noNice := range []bool{false, true} {
		p := fakePlan(t, []fakePort{{origin: "ports-mgmt/pkg"}, {origin: "a/lib"}}, []string{"a/lib"})
		r := newRig(t, p)
		r.opts.NoNice = noNice
		var mu sync.Mutex
		seen := map[string]environment.Command{}
		r.handle = func(ctx context.Context, c call) (environment.Result, error) {
			if c.dir == "a/lib" {
				mu.Lock()
				seen[c.step] = c.cmd
				mu.Unlock()
			}
			return r.succeed(c)
		}
		if _, err := r.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantNice := NiceValue
		if noNice {
			wantNice = 0
		}
		for _, ph := range Phases("a/lib", PhaseOptions{}) {
			c, ok := seen[ph.Name]
			if !ok {
				t.Errorf("phase %s not run", ph.Name)
				continue
			}
			fetch := strings.Contains(" fetch-depends fetch checksum ", " "+ph.Name+" ")
			if c.Network != fetch || c.Nice != wantNice {
				t.Errorf("noNice=%v %s: network=%v nice=%d", noNice, ph.Name, c.Network, c.Nice)
			}
		}
	}
}
