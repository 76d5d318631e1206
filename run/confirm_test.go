package run

import (
	"bufio"
	"strings"
	"testing"
)

// TestContinueWithoutVanished follows pkglist.c's processPackageListBulk
// for the installed set (PrepareSystemFlag): "N packages failed to
// probe", then, when only installed ports failed, the two lines and
// askyn's "Continue anyway? " (y/n by the first character, "Please type
// y/n" and again on anything else, no at the end of the input; -y answers
// yes without asking), and when a dependency of an installed port failed,
// the lines that say it cannot continue, and no question.
func TestContinueWithoutVanished(t *testing.T) {
	const vanished = "prepare-system: Some of your installed packages no longer exist in\n" +
		"dports, do you wish to continue rebuilding what does exist?\n"
	for _, c := range []struct {
		name            string
		rootBad, depBad int
		yes             bool
		in              string
		want            bool
		out             string
	}{
		{"yes", 2, 0, false, "y\n", true, "2 packages failed to probe\n" + vanished + "Continue anyway? "},
		{"Yes after an empty line", 1, 0, false, "\nYes\n", true, "1 packages failed to probe\n" + vanished + "Continue anyway? Please type y/n\nContinue anyway? "},
		{"no", 1, 0, false, "n\n", false, "1 packages failed to probe\n" + vanished + "Continue anyway? "},
		{"end of input", 1, 0, false, "", false, "1 packages failed to probe\n" + vanished + "Continue anyway? "},
		{"-y", 1, 0, true, "", true, "1 packages failed to probe\n" + vanished},
		{"a dependency failed", 1, 2, true, "y\n", false, "3 packages failed to probe\n" +
			"prepare-system: Some of your installed packages have dependencies\n" +
			"which could not be found in dports, cannot continue, aborting\n"},
	} {
		var out strings.Builder
		got := continueWithoutVanished(c.rootBad, c.depBad, c.yes, bufio.NewReader(strings.NewReader(c.in)), &out)
		if got != c.want || out.String() != c.out {
			t.Errorf("%s: %v, printed %q; want %v, %q", c.name, got, out.String(), c.want, c.out)
		}
	}
}
