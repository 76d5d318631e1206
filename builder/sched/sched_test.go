package sched

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func mustGraph(t testing.TB, nodes []Node) *Graph {
	t.Helper()
	g, err := NewGraph(nodes)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// diamond: 0 ← 1, 0 ← 2, {1,2} ← 3 (3 depends on 1 and 2, both on 0).
func diamond() []Node {
	return []Node{
		{Estimate: time.Second},
		{Deps: []int{0}, Estimate: time.Second},
		{Deps: []int{0, 0}, Estimate: 5 * time.Second},
		{Deps: []int{1, 2}, Estimate: time.Second},
	}
}

func TestNewGraphRejects(t *testing.T) {
	for name, nodes := range map[string][]Node{
		"range":    {{Deps: []int{1}}},
		"self":     {{Deps: []int{0}}},
		"negative": {{Estimate: -1}},
		"cycle":    {{Deps: []int{2}}, {Deps: []int{0}}, {Deps: []int{1}}},
	} {
		_, err := NewGraph(nodes)
		if !errors.Is(err, ErrBadGraph) {
			t.Errorf("%s: err = %v, want ErrBadGraph", name, err)
		}
	}
	_, err := NewGraph([]Node{{}, {Deps: []int{0, 2}}, {Deps: []int{3}}, {Deps: []int{1}}})
	var ce *CycleError
	if !errors.As(err, &ce) || len(ce.Cycle) != 3 {
		t.Fatalf("err = %v, want a 3-node CycleError", err)
	}
}

func TestGraphBasics(t *testing.T) {
	g := mustGraph(t, diamond())
	if g.Len() != 4 || g.Edges() != 4 {
		t.Fatalf("Len, Edges = %d, %d; want 4, 4 (duplicate dep counted once)", g.Len(), g.Edges())
	}
	if got := g.Dependents(0); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("Dependents(0) = %v", got)
	}
	bl := g.BottomLevels(nil)
	want := []time.Duration{7 * time.Second, 2 * time.Second, 6 * time.Second, time.Second}
	if !slices.Equal(bl, want) {
		t.Errorf("BottomLevels = %v, want %v", bl, want)
	}
	if cp := g.CriticalPath(nil); cp != 7*time.Second {
		t.Errorf("CriticalPath = %v", cp)
	}
}

func TestReadyOnLastDependency(t *testing.T) {
	s := New(mustGraph(t, diamond()), nil, 4)
	n, ok := s.Next(0)
	if !ok || n != 0 {
		t.Fatalf("Next = %d, %v; want 0", n, ok)
	}
	if _, ok := s.Next(1); ok {
		t.Fatal("a second node is ready before 0 finished")
	}
	res, err := s.Done(0, true)
	if err != nil || !slices.Equal(res.Ready, []int{1, 2}) {
		t.Fatalf("Done(0) = %+v, %v", res, err)
	}
	// Critical path: 2 (bottom level 6 s) before 1 (2 s).
	if n, _ := s.Next(0); n != 2 {
		t.Fatalf("Next = %d, want 2 (longer remaining path)", n)
	}
	if n, _ := s.Next(1); n != 1 {
		t.Fatalf("Next = %d, want 1", n)
	}
	if res, _ := s.Done(1, true); len(res.Ready) != 0 {
		t.Fatalf("3 ready with 2 still running: %+v", res)
	}
	if res, _ := s.Done(2, true); !slices.Equal(res.Ready, []int{3}) {
		t.Fatalf("Done(2).Ready = %v, want [3]", res.Ready)
	}
	s.Next(0)
	s.Done(3, true)
	if !s.Finished() || s.Count(Succeeded) != 4 {
		t.Fatalf("finished=%v succeeded=%d", s.Finished(), s.Count(Succeeded))
	}
}

func TestFailureSkipsDependents(t *testing.T) {
	// 0 ← 1 ← 2 ← 3, and 4 independent; 5 depends on 2 and 4.
	g := mustGraph(t, []Node{{}, {Deps: []int{0}}, {Deps: []int{1}}, {Deps: []int{2}}, {}, {Deps: []int{2, 4}}})
	s := New(g, FIFO{}, 2)
	s.Next(0) // 0
	s.Next(1) // 4
	s.Done(0, true)
	s.Next(0) // 1
	res, err := s.Done(1, false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int][]int{}
	for _, sk := range res.Skipped {
		got[sk.Node] = sk.Chain
	}
	want := map[int][]int{2: {1}, 3: {1, 2}, 5: {1, 2}}
	if len(got) != len(want) {
		t.Fatalf("skipped %v, want %v", got, want)
	}
	for n, c := range want {
		if !slices.Equal(got[n], c) {
			t.Errorf("chain of %d = %v, want %v", n, got[n], c)
		}
	}
	// 4 succeeding must not make the skipped 5 ready.
	if res, _ := s.Done(4, true); len(res.Ready) != 0 {
		t.Fatalf("skipped node became ready: %v", res.Ready)
	}
	if !s.Finished() || s.Count(Skipped) != 3 || s.Count(Failed) != 1 {
		t.Fatalf("finished=%v skipped=%d failed=%d", s.Finished(), s.Count(Skipped), s.Count(Failed))
	}
}

func TestIgnoreReadyAndWaiting(t *testing.T) {
	g := mustGraph(t, []Node{{}, {}, {Deps: []int{1}}})
	s := New(g, nil, 1)
	if _, err := s.Done(1, false); err != nil { // ready, never ran (IGNORE)
		t.Fatal(err)
	}
	if s.State(2) != Skipped {
		t.Fatalf("state(2) = %v", s.State(2))
	}
	n, ok := s.Next(0)
	if !ok || n != 0 {
		t.Fatalf("Next = %d, %v; the ignored node must not be handed out", n, ok)
	}
	if _, ok := s.Next(0); ok {
		t.Fatal("more work after the only ready node")
	}
}

func TestBadTransitions(t *testing.T) {
	s := New(mustGraph(t, diamond()), nil, 1)
	for _, c := range []struct {
		node int
		ok   bool
	}{{0, true}, {3, true}, {9, false}, {-1, true}} {
		if _, err := s.Done(c.node, c.ok); !errors.Is(err, ErrBadTransition) {
			t.Errorf("Done(%d, %v) = %v, want ErrBadTransition", c.node, c.ok, err)
		}
	}
	s.Next(0)
	s.Done(0, false)
	if _, err := s.Done(0, false); !errors.Is(err, ErrBadTransition) {
		t.Errorf("failing twice: %v", err)
	}
}

func TestTwoHalfSlots(t *testing.T) {
	// Three independent ready nodes: 0 has the highest depi product, 2 the
	// highest idep count.
	g := mustGraph(t, []Node{{}, {}, {}})
	w := []DsynthWeights{{IdepCount: 0, DepiCount: 3, DepiDepth: 2}, {IdepCount: 1, DepiCount: 1, DepiDepth: 1}, {IdepCount: 5}}
	for _, batch := range []bool{false, true} {
		s := New(g, DsynthTwoHalf{Weights: w, Batch: batch}, 4)
		if n, _ := s.Next(3); n != 2 { // 3 > 4/2: idep half
			t.Errorf("batch=%v: slot 3 took %d, want 2", batch, n)
		}
		if n, _ := s.Next(2); n != 0 { // 2 ≤ 4/2: depi half
			t.Errorf("batch=%v: slot 2 took %d, want 0", batch, n)
		}
		if n, _ := s.Next(3); n != 1 {
			t.Errorf("batch=%v: slot 3 took %d, want 1", batch, n)
		}
	}
}

func TestBatchDispatch(t *testing.T) {
	// 0 and 1 ready at start; 2 (depending on 0) has a huge depi product
	// but must wait until the first batch is disposed of.
	g := mustGraph(t, []Node{{}, {}, {}, {Deps: []int{0}}})
	w := []DsynthWeights{{}, {}, {}, {DepiCount: 100, DepiDepth: 100}}
	for _, batch := range []bool{false, true} {
		s := New(g, DsynthTwoHalf{Weights: w, Batch: batch}, 2)
		s.Next(0)       // 0: the batch is {0, 1, 2}
		s.Done(0, true) // 3 ready
		n, _ := s.Next(0)
		if batch && n == 3 || !batch && n != 3 {
			t.Errorf("batch=%v: took %d", batch, n)
		}
	}
}

func TestFIFOOrder(t *testing.T) {
	g := mustGraph(t, []Node{{}, {}, {Deps: []int{1}}, {Deps: []int{0}}})
	s := New(g, FIFO{}, 1)
	var order []int
	for !s.Finished() {
		n, ok := s.Next(0)
		if !ok {
			t.Fatal("stuck")
		}
		order = append(order, n)
		s.Done(n, true)
	}
	if !slices.Equal(order, []int{0, 1, 3, 2}) {
		t.Fatalf("order = %v", order)
	}
}

// TestRandomRuns checks the state machine's invariants on random DAGs,
// policies and failures: a node starts only when all its dependencies
// succeeded, every node ends in one terminal state, and a skipped node's
// chain starts at a failed node and follows real edges.
func TestRandomRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	policies := []Policy{CriticalPath{}, FIFO{}, DsynthTwoHalf{}, DsynthTwoHalf{Batch: true}}
	for iter := range 200 {
		n := 1 + r.IntN(60)
		nodes := make([]Node, n)
		for i := range nodes {
			nodes[i].Estimate = time.Duration(r.IntN(100)) * time.Second
			for d := 0; d < i; d++ {
				if r.IntN(8) == 0 {
					nodes[i].Deps = append(nodes[i].Deps, d)
				}
			}
		}
		g := mustGraph(t, nodes)
		workers := 1 + r.IntN(6)
		s := New(g, policies[iter%len(policies)], workers)
		var running []int
		busy := make([]bool, workers)
		slotOf := map[int]int{}
		for !s.Finished() {
			for slot := range busy {
				if busy[slot] {
					continue
				}
				node, ok := s.Next(slot)
				if !ok {
					break
				}
				for _, d := range g.Deps(node) {
					if s.State(d) != Succeeded {
						t.Fatalf("iter %d: %d started with dependency %d %v", iter, node, d, s.State(d))
					}
				}
				busy[slot] = true
				slotOf[node] = slot
				running = append(running, node)
			}
			if len(running) == 0 {
				t.Fatalf("iter %d: stuck with %d waiting", iter, s.Count(Waiting))
			}
			k := r.IntN(len(running))
			node := running[k]
			running = slices.Delete(running, k, k+1)
			busy[slotOf[node]] = false
			res, err := s.Done(node, r.IntN(10) != 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, sk := range res.Skipped {
				if s.State(sk.Chain[0]) != Failed {
					t.Fatalf("iter %d: chain %v does not start at a failure", iter, sk.Chain)
				}
				path := append(slices.Clone(sk.Chain), sk.Node)
				for j := 1; j < len(path); j++ {
					if !slices.Contains(g.Deps(path[j]), path[j-1]) {
						t.Fatalf("iter %d: chain %v → %d is not a dependency path", iter, sk.Chain, sk.Node)
					}
				}
			}
		}
		total := s.Count(Succeeded) + s.Count(Failed) + s.Count(Skipped)
		if total != n {
			t.Fatalf("iter %d: %d terminal of %d", iter, total, n)
		}
	}
}
