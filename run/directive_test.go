package run

import "testing"

// TestDirectiveTable pins what each directive does: these rows replace the
// name compares the command line and the run made before.
func TestDirectiveTable(t *testing.T) {
	cases := map[string]Directive{
		"status":            {Name: "status", Origins: ArgsOrInstalled, DryRun: true},
		"status-everything": {Name: "status-everything", Origins: WholeTree, DryRun: true},
		"build":             {Name: "build", Repository: AskRepository},
		"just-build":        {Name: "just-build"},
		"install":           {Name: "install", Repository: AlwaysRepository},
		"force":             {Name: "force", DeleteRoots: true, Repository: AskRepository},
		"test":              {Name: "test", DeleteRoots: true, Test: true},
		"debug":             {Name: "debug", DeleteRoots: true, Freeze: true},
		"everything":        {Name: "everything", Origins: WholeTree, DeleteObsolete: true, Lenient: true, Repository: AskRepository, DeveloperChecksPlist: true},
		"fetch-only":        {Name: "fetch-only", Origins: ArgsOrWholeTree, FetchOnly: true},
		"upgrade-system":    {Name: "upgrade-system", Origins: Installed, Repository: AlwaysRepository, UpgradeNote: true},
		"prepare-system":    {Name: "prepare-system", Origins: Installed, DeleteObsolete: true, Repository: AlwaysRepository},
	}
	all := Directives()
	if len(all) != len(cases) {
		t.Fatalf("%d directives, want %d", len(all), len(cases))
	}
	for i, d := range all {
		if i > 0 && all[i-1].Name >= d.Name {
			t.Errorf("Directives not sorted: %s before %s", all[i-1].Name, d.Name)
		}
		if want, ok := cases[d.Name]; !ok || d != want {
			t.Errorf("%s: %+v, want %+v", d.Name, d, want)
		}
		if got, ok := Lookup(d.Name); !ok || got != d {
			t.Errorf("Lookup(%s) = %+v, %v", d.Name, got, ok)
		}
	}
	if _, ok := Lookup("rebuild-repository"); ok {
		t.Error("rebuild-repository does not scan: it is not a run directive")
	}
	// Copies: changing one does not change the table.
	all[0].DryRun = !all[0].DryRun
	if again := Directives(); again[0].DryRun == all[0].DryRun {
		t.Error("Directives hands out the table itself")
	}
}
