package sched

import (
	"errors"
	"fmt"
)

// ErrBadTransition is wrapped by the errors Done returns when a call does
// not match the node's state (a bug in the caller).
var ErrBadTransition = errors.New("sched: bad transition")

// State is where a node is in a run.
type State uint8

// Node states. Waiting nodes have unfinished dependencies; Ready nodes are
// queued; Running nodes were handed out by Next.
const (
	Waiting State = iota
	Ready
	Running
	Succeeded
	Failed
	Skipped
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case Waiting:
		return "waiting"
	case Ready:
		return "ready"
	case Running:
		return "running"
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Skip is one node skipped because a dependency failed.
type Skip struct {
	Node int
	// Chain runs from the node that failed to the direct dependency of
	// Node through which the failure arrived: Chain[0] failed, each next
	// element depends on the one before, and Node depends on the last.
	Chain []int
}

// Result is what Done reports.
type Result struct {
	// Ready lists the nodes that became ready, in the order they did.
	Ready []int
	// Skipped lists every transitive dependent that is skipped because of
	// this failure (empty on success), nearest first.
	Skipped []Skip
}

// Scheduler runs one build over a Graph. Create it with New.
type Scheduler struct {
	g       *Graph
	q       Queue
	pending []int32
	state   []State
	via     []int32 // for Skipped nodes: the dependency that carried the failure
	counts  [Skipped + 1]int
}

// New starts a run over g with policy p (nil means CriticalPath{}) for a
// pool of workers slots (used by slot-aware policies such as
// DsynthTwoHalf). Nodes without dependencies are ready at once.
func New(g *Graph, p Policy, workers int) *Scheduler {
	if p == nil {
		p = CriticalPath{}
	}
	n := g.Len()
	s := &Scheduler{
		g:       g,
		q:       p.NewQueue(g, max(workers, 1)),
		pending: make([]int32, n),
		state:   make([]State, n),
		via:     make([]int32, n),
	}
	s.counts[Waiting] = n
	for _, i := range g.topo {
		s.pending[i] = g.depStart[i+1] - g.depStart[i]
		if s.pending[i] == 0 {
			s.makeReady(i)
		}
	}
	return s
}

func (s *Scheduler) set(i int32, st State) {
	s.counts[s.state[i]]--
	s.state[i] = st
	s.counts[st]++
}

func (s *Scheduler) makeReady(i int32) {
	s.set(i, Ready)
	s.q.Push(int(i))
}

// Next returns the ready node the policy ranks first for the free worker
// slot (0-based; slot-unaware policies ignore it) and marks it running. It
// returns false when no node is ready.
func (s *Scheduler) Next(slot int) (int, bool) {
	for s.counts[Ready] > 0 {
		i, ok := s.q.Pop(slot)
		if !ok {
			return 0, false
		}
		if s.state[i] != Ready { // disposed of by Done while queued
			continue
		}
		s.set(int32(i), Running)
		return i, true
	}
	return 0, false
}

// Done reports that node finished. ok=true is valid only for a running
// node: each dependent whose last dependency this was becomes ready. ok=false
// marks the node failed, whether it ran or not (an ignored port is disposed
// of this way while waiting or ready), and skips every transitive dependent
// that has not finished.
func (s *Scheduler) Done(node int, ok bool) (Result, error) {
	if node < 0 || node >= len(s.state) {
		return Result{}, fmt.Errorf("%w: node %d outside 0..%d", ErrBadTransition, node, len(s.state)-1)
	}
	i := int32(node)
	st := s.state[i]
	if ok {
		if st != Running {
			return Result{}, fmt.Errorf("%w: node %d succeeded while %v", ErrBadTransition, node, st)
		}
		s.set(i, Succeeded)
		var res Result
		for _, r := range s.g.dependents(i) {
			if s.pending[r]--; s.pending[r] == 0 && s.state[r] == Waiting {
				s.makeReady(r)
				res.Ready = append(res.Ready, int(r))
			}
		}
		return res, nil
	}
	if st > Running {
		return Result{}, fmt.Errorf("%w: node %d failed while %v", ErrBadTransition, node, st)
	}
	s.set(i, Failed)
	return Result{Skipped: s.skipFrom(i)}, nil
}

// Requeue puts a running node back among the ready ones: its attempt was
// lost (a remote worker died), not failed, and another slot will build it.
func (s *Scheduler) Requeue(node int) error {
	if node < 0 || node >= len(s.state) {
		return fmt.Errorf("%w: node %d outside 0..%d", ErrBadTransition, node, len(s.state)-1)
	}
	if s.state[node] != Running {
		return fmt.Errorf("%w: node %d requeued while %v", ErrBadTransition, node, s.state[node])
	}
	s.makeReady(int32(node))
	return nil
}

// skipFrom skips, breadth first, every unfinished transitive dependent of
// the failed node f.
func (s *Scheduler) skipFrom(f int32) []Skip {
	var skipped []Skip
	queue := []int32{f}
	for k := 0; k < len(queue); k++ {
		for _, r := range s.g.dependents(queue[k]) {
			if s.state[r] > Ready { // running or finished: a running node cannot depend on f
				continue
			}
			s.set(r, Skipped)
			s.via[r] = queue[k]
			queue = append(queue, r)
			skipped = append(skipped, Skip{Node: int(r), Chain: s.chain(queue[k])})
		}
	}
	return skipped
}

// chain returns the failure chain ending at node c (failed or skipped).
func (s *Scheduler) chain(c int32) []int {
	var rev []int
	for {
		rev = append(rev, int(c))
		if s.state[c] == Failed {
			break
		}
		c = s.via[c]
	}
	for a, b := 0, len(rev)-1; a < b; a, b = a+1, b-1 {
		rev[a], rev[b] = rev[b], rev[a]
	}
	return rev
}

// State returns node's state.
func (s *Scheduler) State(node int) State { return s.state[node] }

// Count returns how many nodes are in state st.
func (s *Scheduler) Count(st State) int { return s.counts[st] }

// Finished reports whether every node has succeeded, failed or been
// skipped.
func (s *Scheduler) Finished() bool {
	return s.counts[Waiting] == 0 && s.counts[Ready] == 0 && s.counts[Running] == 0
}

// Graph returns the graph the run walks.
func (s *Scheduler) Graph() *Graph { return s.g }
