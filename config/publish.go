package config

// publishKeys are the profile keys of the repository's publishing and
// signing (go-dsynth extensions; docs/CONFIG.md).
var publishKeys = [...]string{
	"Repository_publish", "Repository_keep", "Repository_manifest_key",
	"Repository_signing_key", "Repository_signing_command",
}

// Values of Repository_publish.
const (
	// PublishDirect is dsynth's way: packages go straight into the
	// repository directory, which the repository step rebuilds in place.
	PublishDirect = "direct"
	// PublishAtomic builds into a staging copy published as a new
	// generation in one step (package repository).
	PublishAtomic = "atomic"
)

// DefaultRepositoryKeep is how many generations atomic publishing keeps
// when Repository_keep is not set.
const DefaultRepositoryKeep = 3

// applyPublish decodes one of publishKeys.
func (d *decoder) applyPublish(e Entry) error {
	p := &d.p
	if d.publish == nil {
		d.publish = map[string]Entry{}
	}
	d.publish[e.Key] = e
	var err error
	switch e.Key {
	case "Repository_publish":
		if e.Value != PublishDirect && e.Value != PublishAtomic {
			return d.errf(e, "%q: use %s (dsynth's: packages go straight into the repository) or %s (generations switched in one step)", e.Value, PublishDirect, PublishAtomic)
		}
		p.RepositoryPublish = e.Value
	case "Repository_keep":
		p.RepositoryKeep, err = d.intIn(e, 1, 1000)
	case "Repository_manifest_key":
		p.RepositoryManifestKey, err = d.dir(e)
	case "Repository_signing_key":
		p.RepositorySigningKey, err = d.dir(e)
	case "Repository_signing_command":
		if e.Ignored != "" {
			return d.errf(e, "takes one word, a program (dsynth.ini values end at the first blank): put %q and its arguments in a script and name the script", e.Value)
		}
		p.RepositorySigningCommand = e.Value
	}
	return err
}

// checkPublish refuses publishing settings that would do nothing or
// contradict each other.
func (d *decoder) checkPublish() error {
	p := &d.p
	at := func(k string) Entry { return d.publish[k] }
	if p.RepositorySigningKey != "" && p.RepositorySigningCommand != "" {
		return d.errf(at("Repository_signing_command"), "pkg repo signs with a key or a command, not both: remove Repository_signing_key or Repository_signing_command")
	}
	if p.RepositoryPublish != PublishAtomic {
		for _, k := range []string{"Repository_keep", "Repository_manifest_key"} {
			if e := at(k); e.Key != "" {
				return d.errf(e, "applies to generations: set Repository_publish= %s", PublishAtomic)
			}
		}
		return nil
	}
	if !within(p.RepositoryDir, p.PackagesDir) {
		e := at("Repository_publish")
		return d.errf(e, "atomic publishing switches Directory_packages (%s) as a whole, so Directory_repository (%s) must lie inside it", p.PackagesDir, p.RepositoryDir)
	}
	return nil
}
