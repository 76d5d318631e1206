package sched

import (
	"slices"
	"time"
)

// Policy orders the ready queue. Policies are plain values; each run gets
// its own Queue from NewQueue.
type Policy interface {
	// Name is a short label for reports ("critical-path", …).
	Name() string
	// NewQueue returns an empty ready queue for a run over g with a pool of
	// workers slots.
	NewQueue(g *Graph, workers int) Queue
}

// Queue is a run's ready queue. The Scheduler pushes each node once, when it
// becomes ready, and pops when a slot is free; it discards popped nodes that
// are no longer ready, so a Queue never needs to delete.
type Queue interface {
	Push(node int)
	// Pop removes and returns the node to start on the given free slot
	// (0-based), or false when the queue is empty.
	Pop(slot int) (int, bool)
}

// CriticalPath orders by bottom level: the longest path, weighted by the
// graph's estimates, from a node (its own estimate included) to any sink.
// It is the default policy. Ties go to the node whose direct dependents
// carry more remaining work (the sum of their bottom levels), then to the
// lower ID.
type CriticalPath struct{}

// Name implements Policy.
func (CriticalPath) Name() string { return "critical-path" }

// NewQueue implements Policy.
func (CriticalPath) NewQueue(g *Graph, _ int) Queue {
	bl := g.BottomLevels(nil)
	key := make([]int64, len(bl))
	tie := make([]int64, len(bl))
	for i := range bl {
		key[i] = int64(bl[i])
		var s time.Duration
		for _, r := range g.dependents(int32(i)) {
			s += bl[r]
		}
		tie[i] = int64(s)
	}
	return &heapQueue{key: key, tie: tie}
}

// FIFO starts ready nodes in the order they became ready (the initial ready
// set by ID): a plain topological order with no priority.
type FIFO struct{}

// Name implements Policy.
func (FIFO) Name() string { return "fifo" }

// NewQueue implements Policy.
func (FIFO) NewQueue(*Graph, int) Queue { return &fifoQueue{} }

// DsynthWeights are the three counters dsynth sorts by, for one node.
type DsynthWeights struct {
	// IdepCount is idep_count as dsynth holds it when the node is ready:
	// since every dependency has then succeeded, build_find_leaves counts
	// one per dependency link (two for a link to a flavor's dummy node).
	IdepCount int32
	// DepiCount is depi_count: the number of dependency links that point
	// at the node (one per token, duplicates included).
	DepiCount int32
	// DepiDepth is depi_depth: the longest chain of dependents above the
	// node, 0 when nothing depends on it.
	DepiDepth int32
}

// DsynthTwoHalf is dsynth's ordering: the ready list is sorted by
// depi_count×depi_depth and by idep_count, both descending; a free slot
// whose 0-based index n satisfies n ≤ workers/2 takes the next depi
// candidate, any other slot the next idep candidate.
//
// With Batch false the two orders are kept over one global, event-driven
// ready set. With Batch true it dispatches as dsynth's C code does: the
// ready list found by one scan is dispatched whole before any newly ready
// port is considered (startbuild blocks until its list is empty).
type DsynthTwoHalf struct {
	// Weights holds dsynth's counters per node, for callers that model
	// dsynth's graph exactly (dummy flavor nodes, duplicate links). Nil
	// derives them from the graph: IdepCount and DepiCount from its
	// distinct edges, DepiDepth from its longest dependent chains.
	Weights []DsynthWeights
	Batch   bool
}

// Name implements Policy.
func (p DsynthTwoHalf) Name() string {
	if p.Batch {
		return "dsynth-batch"
	}
	return "dsynth-two-half"
}

// NewQueue implements Policy.
func (p DsynthTwoHalf) NewQueue(g *Graph, workers int) Queue {
	w := p.Weights
	if w == nil {
		w = DeriveDsynthWeights(g)
	}
	n := g.Len()
	depi := make([]int64, n)
	idep := make([]int64, n)
	for i := range n {
		depi[i] = int64(w[i].DepiCount) * int64(w[i].DepiDepth)
		idep[i] = int64(w[i].IdepCount)
	}
	if p.Batch {
		return &batchQueue{depiKey: depi, idepKey: idep, workers: workers, taken: make([]bool, n)}
	}
	taken := make([]bool, n)
	return &twoHalfQueue{
		workers: workers,
		depi:    heapQueue{key: depi, taken: taken},
		idep:    heapQueue{key: idep, taken: taken},
	}
}

// DeriveDsynthWeights computes dsynth's counters from g's distinct edges.
func DeriveDsynthWeights(g *Graph) []DsynthWeights {
	n := g.Len()
	w := make([]DsynthWeights, n)
	for _, i := range g.topo { // dependents come later in topo
		w[i].IdepCount = g.depStart[i+1] - g.depStart[i]
		w[i].DepiCount = g.revStart[i+1] - g.revStart[i]
	}
	for k := len(g.topo) - 1; k >= 0; k-- {
		i := g.topo[k]
		for _, r := range g.dependents(i) {
			w[i].DepiDepth = max(w[i].DepiDepth, w[r].DepiDepth+1)
		}
	}
	return w
}

// heapQueue is a binary max-heap of node IDs by key, then tie, then lower
// ID. With taken set it skips nodes another queue already handed out.
type heapQueue struct {
	key, tie []int64
	items    []int32
	taken    []bool
}

func (h *heapQueue) less(a, b int32) bool { // a ranks before b
	if h.key[a] != h.key[b] {
		return h.key[a] > h.key[b]
	}
	if h.tie != nil && h.tie[a] != h.tie[b] {
		return h.tie[a] > h.tie[b]
	}
	return a < b
}

func (h *heapQueue) Push(node int) {
	h.items = append(h.items, int32(node))
	it := h.items
	c := len(it) - 1
	for c > 0 {
		p := (c - 1) / 2
		if !h.less(it[c], it[p]) {
			break
		}
		it[c], it[p] = it[p], it[c]
		c = p
	}
}

func (h *heapQueue) Pop(int) (int, bool) {
	for len(h.items) > 0 {
		top := h.popTop()
		if h.taken != nil {
			if h.taken[top] {
				continue
			}
			h.taken[top] = true
		}
		return int(top), true
	}
	return 0, false
}

func (h *heapQueue) popTop() int32 {
	it := h.items
	top := it[0]
	last := len(it) - 1
	it[0] = it[last]
	it = it[:last]
	h.items = it
	p := 0
	for {
		l := 2*p + 1
		if l >= len(it) {
			break
		}
		c := l
		if r := l + 1; r < len(it) && h.less(it[r], it[l]) {
			c = r
		}
		if !h.less(it[c], it[p]) {
			break
		}
		it[c], it[p] = it[p], it[c]
		p = c
	}
	return top
}

type fifoQueue struct {
	items []int32
	head  int
}

func (q *fifoQueue) Push(node int) { q.items = append(q.items, int32(node)) }

func (q *fifoQueue) Pop(int) (int, bool) {
	if q.head == len(q.items) {
		return 0, false
	}
	n := q.items[q.head]
	q.head++
	if q.head > 1024 && q.head*2 > len(q.items) {
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
	return int(n), true
}

// twoHalfQueue keeps both dsynth orders over one global ready set.
type twoHalfQueue struct {
	workers    int
	depi, idep heapQueue // sharing one taken slice
}

func (q *twoHalfQueue) Push(node int) {
	q.depi.Push(node)
	q.idep.Push(node)
}

func (q *twoHalfQueue) Pop(slot int) (int, bool) {
	if slot <= q.workers/2 {
		return q.depi.Pop(slot)
	}
	return q.idep.Pop(slot)
}

// batchQueue is dsynth's startbuild: the current list, sorted both ways,
// is consumed before the next list (everything that became ready since
// the current one was formed) is looked at.
type batchQueue struct {
	depiKey, idepKey []int64
	workers          int
	taken            []bool
	byDepi, byIdep   []int32 // the current list, sorted
	di, ii           int     // cursors into them
	next             []int32
}

func (q *batchQueue) Push(node int) { q.next = append(q.next, int32(node)) }

func (q *batchQueue) skipTaken() {
	for q.di < len(q.byDepi) && q.taken[q.byDepi[q.di]] {
		q.di++
	}
	for q.ii < len(q.byIdep) && q.taken[q.byIdep[q.ii]] {
		q.ii++
	}
}

// promote makes the pending list current, as dsynth's rescan does once
// startbuild has disposed of its list.
func (q *batchQueue) promote() {
	if len(q.next) == 0 {
		return
	}
	q.byDepi = append(q.byDepi[:0], q.next...)
	q.byIdep = append(q.byIdep[:0], q.next...)
	q.next = q.next[:0]
	q.di, q.ii = 0, 0
	// qsort is not stable; the list is in scan order, which IDs follow.
	slices.SortStableFunc(q.byDepi, func(a, b int32) int { return cmpDesc(q.depiKey[a], q.depiKey[b]) })
	slices.SortStableFunc(q.byIdep, func(a, b int32) int { return cmpDesc(q.idepKey[a], q.idepKey[b]) })
}

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func (q *batchQueue) Pop(slot int) (int, bool) {
	q.skipTaken()
	if q.di == len(q.byDepi) {
		q.promote()
		q.skipTaken()
		if q.di == len(q.byDepi) {
			return 0, false
		}
	}
	var n int32
	if slot <= q.workers/2 {
		n = q.byDepi[q.di]
	} else {
		n = q.byIdep[q.ii]
	}
	q.taken[n] = true
	q.skipTaken()
	if q.di == len(q.byDepi) { // list disposed of: dsynth rescans now
		q.promote()
	}
	return int(n), true
}
