package config

import "errors"

// LoadOptions say where to look for the configuration and which profile to use.
type LoadOptions struct {
	// Dir is the configuration directory (-C); empty searches /etc/dsynth,
	// then /usr/local/etc/dsynth.
	Dir string
	// Profile overrides profile_selected (from -p or DSYNTH_PROFILE).
	Profile string
}

// Load finds, reads and validates dsynth.ini and the selected profile.
func Load(opts LoadOptions) (*Config, error) {
	return nil, errors.New("config: not implemented yet")
}
