package sched

import "testing"

func TestEstimateOrders(t *testing.T) {
	plain := EstimateInput{Origin: "devel/foo", Uses: "gmake", Distfiles: 1, BuildDeps: 2}
	for _, c := range []struct {
		name         string
		small, large EstimateInput
	}{
		{"more dependencies", plain, EstimateInput{Origin: "devel/foo", Uses: "gmake", Distfiles: 1, BuildDeps: 2, LibDeps: 10}},
		{"cmake", plain, EstimateInput{Origin: "devel/foo", Uses: "cmake", Distfiles: 1, BuildDeps: 2}},
		{"cargo beats cmake", EstimateInput{Uses: "cmake"}, EstimateInput{Uses: "cargo"}},
		{"qt kde", EstimateInput{Uses: "cmake"}, EstimateInput{Uses: "cmake qt:5 kde:5"}},
		{"bigger distfiles", EstimateInput{DistfileBytes: 1 << 20}, EstimateInput{DistfileBytes: 300 << 20}},
		{"perl module is small", EstimateInput{Origin: "devel/p5-Foo", Uses: "perl5"}, plain},
		{"metaport is smallest", EstimateInput{Meta: true, LibDeps: 50}, EstimateInput{}},
	} {
		if s, l := Estimate(c.small), Estimate(c.large); s >= l {
			t.Errorf("%s: %v ≥ %v", c.name, s, l)
		}
	}
	if Estimate(plain) != Estimate(plain) {
		t.Error("not deterministic")
	}
}
