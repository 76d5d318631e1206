package service

import "github.com/go-dsynth/go-dsynth/builddb"

// SetPicked sets the hook Run calls between choosing a request and
// starting it; call it before Run.
func SetPicked(s *Service, f func(*builddb.Request)) { s.picked = f }
