package cluster

import (
	"io"
	"sync"

	"github.com/go-dsynth/go-dsynth/environment"
)

// scriptRun follows, on the controller's side, the script a worker runs
// ahead in a slot (environment.RemotePort.Script): each step's output is
// kept until an Execute claims the step, then passed on as it comes, and
// its end is handed to that Execute. Claims go in the script's order; the
// first command that is not the next step ends the claims.
type scriptRun struct {
	id    string
	steps []environment.Step
	// lost is closed when the worker is lost (its pending call's).
	lost chan struct{}

	mu    sync.Mutex
	next  int // the step the next claim may take
	dead  bool
	out   []stepOut
	ended chan struct{} // closed when the worker said the script ended
}

// stepOut is one step's output and end.
type stepOut struct {
	kept           []chunk // output that came before the claim
	claimed        bool
	stdout, stderr io.Writer
	done           *Done
	ch             chan struct{} // closed when done is set
}

type chunk struct {
	stderr bool
	data   []byte
}

func newScriptRun(id string, steps []environment.Step) *scriptRun {
	s := &scriptRun{id: id, steps: steps, out: make([]stepOut, len(steps)), ended: make(chan struct{})}
	for i := range s.out {
		s.out[i].ch = make(chan struct{})
	}
	return s
}

// output passes step i's output to the writers of the Execute that
// claimed it, or keeps it until one does.
func (s *scriptRun) output(i int, stderr bool, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 0 || i >= len(s.out) {
		return
	}
	o := &s.out[i]
	if !o.claimed {
		o.kept = append(o.kept, chunk{stderr, data})
		return
	}
	o.write(chunk{stderr, data})
}

func (o *stepOut) write(c chunk) {
	w := o.stdout
	if c.stderr {
		w = o.stderr
	}
	if w != nil {
		w.Write(c.data)
	}
}

// finish records step i's end.
func (s *scriptRun) finish(i int, d Done) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 0 || i >= len(s.out) || s.out[i].done != nil {
		return
	}
	s.out[i].done = &d
	close(s.out[i].ch)
}

// end records that the worker's script ended: steps with no end by now
// never ran.
func (s *scriptRun) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.ended:
	default:
		close(s.ended)
	}
}

// hasEnded says whether the worker said the script ended.
func (s *scriptRun) hasEnded() bool {
	select {
	case <-s.ended:
		return true
	default:
		return false
	}
}

// claim takes the next step for cmd (its input read into stdin), its
// output then going to cmd's writers, the output kept so far first. It
// returns false when cmd is not the next step, or the claims ended: no
// step is claimed after that.
func (s *scriptRun) claim(cmd environment.Command, stdin []byte) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead || s.next >= len(s.steps) || !s.steps[s.next].Matches(cmd, stdin) {
		s.dead = true
		return 0, false
	}
	i := s.next
	s.next++
	o := &s.out[i]
	o.claimed, o.stdout, o.stderr = true, cmd.Stdout, cmd.Stderr
	for _, c := range o.kept {
		o.write(c)
	}
	o.kept = nil
	return i, true
}

// result is step i's end, and whether it has one; a step that has none
// once the script ended never ran.
func (s *scriptRun) result(i int) (Done, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.out[i].done; d != nil {
		return *d, true
	}
	return Done{}, false
}

// detach drops step i's writers: its later output goes nowhere.
func (s *scriptRun) detach(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out[i].stdout, s.out[i].stderr = nil, nil
}

// stop ends the claims: every later command runs on its own.
func (s *scriptRun) stop() {
	s.mu.Lock()
	s.dead = true
	s.mu.Unlock()
}
