package run

import (
	"strings"
	"testing"
)

// TestRepositoryPromptAsDsynth: dsynth's askyn (subs.c) prints the
// question, takes an answer by its first character (y/Y yes, n/N no),
// says "Please type y/n" and asks again on anything else — an empty line
// too — and takes the end of the input as no.
func TestRepositoryPromptAsDsynth(t *testing.T) {
	const q = "Rebuild the repository? "
	for _, c := range []struct {
		in   string
		want bool
		out  string
	}{
		{"y\n", true, q},
		{"Yes please\n", true, q},
		{"n\n", false, q},
		{"No\n", false, q},
		{"\n\ny\n", true, q + "Please type y/n\n" + q + "Please type y/n\n" + q},
		{"", false, q},
		{"\n", false, q + "Please type y/n\n" + q},
		{"maybe", false, q + "Please type y/n\n" + q},
		{"y", true, q},
	} {
		var out strings.Builder
		if got := RepositoryPrompt(strings.NewReader(c.in), &out); got != c.want || out.String() != c.out {
			t.Errorf("answer %q: %v, printed %q; want %v, %q", c.in, got, out.String(), c.want, c.out)
		}
	}
}

// TestForceAsksForTheRepository: dsynth's force ends with
// DoRebuildRepo(1), the question, as build does (dsynth.c).
func TestForceAsksForTheRepository(t *testing.T) {
	for _, name := range []string{"build", "force", "everything"} {
		if d, _ := Lookup(name); d.Repository != AskRepository {
			t.Errorf("%s: repository step %v, want the question", name, d.Repository)
		}
	}
	for _, name := range []string{"just-build", "test", "debug"} {
		if d, _ := Lookup(name); d.Repository != NoRepository {
			t.Errorf("%s: repository step %v, want none", name, d.Repository)
		}
	}
}
