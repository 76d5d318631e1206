package builder

// NumaCPUs is the CPU set dsynth gives slot under Numa_setsize (numa.c
// setNumaDomain), or nil for no pinning. dsynth pins only when the set
// size is above 1 and the machine has more than twice as many cores: it
// takes the cores as two halves (the second half being the first half's
// hyperthread siblings), cuts the first half into setSize blocks of
// ceil(half/setSize) cores, gives slot the block of slot mod setSize
// (wrapping within the half), and adds each core's sibling.
func NumaCPUs(slot, setSize, numCores int) []int {
	if setSize <= 1 || numCores <= setSize*2 || slot < 0 {
		return nil
	}
	half := numCores / 2
	count := (half + setSize - 1) / setSize
	first := (slot % setSize) * count % half
	cpus := make([]int, 0, 2*count)
	for i := 0; i < count; i++ {
		cpus = append(cpus, first+i)
	}
	for i := 0; i < count; i++ {
		cpus = append(cpus, first+half+i)
	}
	return cpus
}
