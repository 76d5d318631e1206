package run

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

// TestOwnerServesItsConfiguration: the owner's API knows the owner's
// configuration — its dsynth.ini and profile — so the endpoints beyond
// the database (config, packages, logs, artifacts) answer through the
// socket.
func TestOwnerServesItsConfiguration(t *testing.T) {
	cfg := testConfig(t)
	o, err := Own(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	c, err := Dial(cfg.Profile.BuildBase)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data, err := c.call(context.Background(), http.MethodGet, "/api/v1/config", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		File    string            `json:"file"`
		Profile string            `json:"profile"`
		Eff     map[string]string `json:"effective"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.File != cfg.File || got.Profile != cfg.ProfileName || got.Eff["Directory_buildbase"] != cfg.Profile.BuildBase {
		t.Errorf("config through the owner: %+v", got)
	}
	// No scan yet: an empty tree, not an error.
	if _, err := c.call(context.Background(), http.MethodGet, "/api/v1/packages", nil); err != nil {
		t.Errorf("packages: %v", err)
	}
}
