package api

import (
	"encoding/json"
	"sync"
)

// maxCachedAnswers bounds the answers kept for one database version.
const maxCachedAnswers = 512

// answerCache keeps the encoded answers of the read endpoints that depend
// on the build database alone, for the database's current version
// (builddb.DB.Version: it moves with every commit). A commit makes every
// kept answer stale at once, so the cache only ever holds one version's.
// Requests for an answer being computed wait for it instead of computing
// it again, so a crowd of clients polling the same page costs one query
// per commit. The run's writes never wait for any of it.
type answerCache struct {
	mu      sync.Mutex
	version uint64
	answers map[string]json.RawMessage
	flights map[string]*flight
}

// flight is an answer being computed.
type flight struct {
	done chan struct{}
	data json.RawMessage
	err  error
}

// get returns the answer for key at version: kept, being computed by
// another request, or computed now by compute (errors are not kept).
func (c *answerCache) get(version uint64, key string, compute func() (json.RawMessage, error)) (json.RawMessage, error) {
	c.mu.Lock()
	if c.answers == nil || version != c.version {
		if version < c.version {
			// A request that read an older version than one already
			// seen: answer it, keep nothing.
			c.mu.Unlock()
			return compute()
		}
		c.version = version
		c.answers = map[string]json.RawMessage{}
		c.flights = map[string]*flight{}
	}
	if data, ok := c.answers[key]; ok {
		c.mu.Unlock()
		return data, nil
	}
	if f, ok := c.flights[key]; ok {
		c.mu.Unlock()
		<-f.done
		return f.data, f.err
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()

	f.data, f.err = compute()
	close(f.done)

	c.mu.Lock()
	if c.version == version {
		delete(c.flights, key)
		if f.err == nil && len(c.answers) < maxCachedAnswers {
			c.answers[key] = f.data
		}
	}
	c.mu.Unlock()
	return f.data, f.err
}
