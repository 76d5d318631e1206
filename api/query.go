package api

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
)

// Page sizes of the listing endpoints.
const (
	// MaxLimit bounds every limit parameter.
	MaxLimit = 1000
	// defaultHistory is the history and runs page size without limit.
	defaultHistory = 50
)

// queryOf reads the request's query strictly (parseQuery) and refuses
// parameters other than names: every handler reads its query through it,
// with its own list of the parameters it takes.
func queryOf(r *http.Request, names ...string) (url.Values, error) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	return q, allowOnly(q, names...)
}

// parseQuery parses a raw query as url.ParseQuery does, except that a pair
// it cannot read — a ';' separator ("limit=1;status=x"), a bad %-escape
// ("%zz=1") — is refused, naming the pair, instead of dropped: a dropped
// filter would silently widen a listing.
func parseQuery(raw string) (url.Values, error) {
	q := url.Values{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		if strings.Contains(pair, ";") {
			return nil, malformedPair(pair, "';' does not separate parameters: use '&'")
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, malformedPair(pair, "the name is not validly %%-encoded")
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, malformedPair(pair, "the value is not validly %%-encoded")
		}
		q[key] = append(q[key], val)
	}
	return q, nil
}

// malformedPair is the 400 answer to a query pair parseQuery cannot read;
// the pair is quoted, cut to 100 bytes.
func malformedPair(pair, why string) error {
	shown := pair
	if len(shown) > 100 {
		shown = shown[:100] + "…"
	}
	e := errorf(http.StatusBadRequest, CodeBadRequest, "malformed query pair %q: "+why, shown)
	e.Details = map[string]any{"pair": shown}
	return e
}

// allowOnly refuses parameters other than names: a misspelt filter must
// not silently list everything.
func allowOnly(q url.Values, names ...string) error {
	for k := range q {
		if !slices.Contains(names, k) {
			e := errorf(http.StatusBadRequest, CodeBadRequest, "unknown parameter %q (this endpoint takes: %s)", k, strings.Join(names, ", "))
			e.Details = map[string]any{"parameter": k}
			return e
		}
	}
	return nil
}

// single returns a parameter given at most once.
func single(q url.Values, name string) (string, error) {
	v := q[name]
	if len(v) > 1 {
		return "", badParam(name, "given %d times", len(v))
	}
	if len(v) == 0 {
		return "", nil
	}
	return v[0], nil
}

// parseLimit reads limit (1..MaxLimit; def when absent).
func parseLimit(q url.Values, def int) (int, error) {
	s, err := single(q, "limit")
	if err != nil || s == "" {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, badParam("limit", "%q is not a number from 1 to %d", s, MaxLimit)
	}
	return n, nil
}

// parseLimitOnly reads the query of an endpoint whose only parameter is
// limit (default defaultHistory).
func parseLimitOnly(r *http.Request) (int, error) {
	q, err := queryOf(r, "limit")
	if err != nil {
		return 0, err
	}
	return parseLimit(q, defaultHistory)
}

// parseRange reads since and until (RFC 3339); since must be before until.
func parseRange(q url.Values) (since, until time.Time, err error) {
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &since}, {"until", &until}} {
		s, err := single(q, p.name)
		if err != nil {
			return since, until, err
		}
		if s == "" {
			continue
		}
		if *p.t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return since, until, badParam(p.name, "%q is not an RFC 3339 time (e.g. 2025-01-15T10:30:00Z)", s)
		}
		if !inRange(*p.t) {
			return since, until, badParam(p.name, "%q is out of range: times from %s to %s are accepted", s,
				time.Unix(0, math.MinInt64).UTC().Format(time.RFC3339Nano), time.Unix(0, math.MaxInt64).UTC().Format(time.RFC3339Nano))
		}
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return since, until, badParam("until", "must be after since")
	}
	return since, until, nil
}

// inRange says whether t is within what the database's int64 Unix
// nanoseconds hold (1677-09-21 to 2262-04-11): a bound outside would be
// clamped there, so the API refuses it instead of answering for a
// different range than asked.
func inRange(t time.Time) bool {
	return !t.Before(time.Unix(0, math.MinInt64)) && !t.After(time.Unix(0, math.MaxInt64))
}

// parseFilter reads the query of GET /api/v1/records.
func parseFilter(q url.Values) (builddb.Filter, error) {
	var f builddb.Filter
	if err := allowOnly(q, "status", "origin", "worker", "since", "until", "limit", "cursor", "order"); err != nil {
		return f, err
	}
	st, err := single(q, "status")
	if err != nil {
		return f, err
	}
	if st != "" {
		for _, s := range strings.Split(st, ",") {
			s = strings.TrimSpace(s)
			if !builddb.Status(s).Valid() {
				return f, badParam("status", "unknown status %q (use running, success, failed, ignored, skipped, lost)", s)
			}
			// Each status once: the filter is checked against every
			// record a listing scans.
			if !slices.Contains(f.Status, builddb.Status(s)) {
				f.Status = append(f.Status, builddb.Status(s))
			}
		}
	}
	if f.OriginPrefix, err = single(q, "origin"); err != nil {
		return f, err
	}
	if len(f.OriginPrefix) > 256 || strings.IndexFunc(f.OriginPrefix, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0 {
		return f, badParam("origin", "an origin prefix has no blanks or control characters and at most 256 bytes")
	}
	w, err := single(q, "worker")
	if err != nil {
		return f, err
	}
	if w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 || n >= config.MaxBuilders {
			return f, badParam("worker", "%q is not a worker number (0..%d)", w, config.MaxBuilders-1)
		}
		f.Worker = &n
	}
	if f.Since, f.Until, err = parseRange(q); err != nil {
		return f, err
	}
	if f.Limit, err = parseLimit(q, builddb.DefaultPageSize); err != nil {
		return f, err
	}
	if f.Cursor, err = single(q, "cursor"); err != nil {
		return f, err
	}
	if c := f.Cursor; c != "" && (len(c) != 48 || strings.Trim(c, "0123456789abcdef") != "") {
		return f, badParam("cursor", "not a cursor of this API (use next_cursor from the previous page)")
	}
	switch o, err := single(q, "order"); {
	case err != nil:
		return f, err
	case o == "oldest":
		f.Oldest = true
	case o != "" && o != "newest":
		return f, badParam("order", "%q: use newest (the default) or oldest", o)
	}
	return f, nil
}

// parseUUID reads a build or run id from the path.
func parseUUID(s, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		e := errorf(http.StatusBadRequest, CodeInvalidID, "%q is not a %s id (a UUID such as 550e8400-e29b-41d4-a716-446655440000)", s, what)
		return uuid.Nil, e
	}
	return id, nil
}

// parseOrigin reads category and port[@flavor] from the path with the
// ports tree's own rules (ports.ParseOrigin), which refuse "..", ".",
// dot-prefixed parts and flavors, slashes inside a part, backslashes,
// blanks and control characters: an origin never names anything outside
// the tree, nor garbles a log line.
func parseOrigin(category, port string) (ports.Origin, error) {
	o, err := ports.ParseOrigin(category + "/" + port)
	if err != nil {
		e := errorf(http.StatusBadRequest, CodeInvalidOrigin, "%v", err)
		e.Details = map[string]any{"want": "category/port or category/port@flavor"}
		return ports.Origin{}, e
	}
	return o, nil
}

// checkPath refuses request paths with empty, "." or ".." segments, raw or
// percent-encoded, and encoded slashes, backslashes and NUL: no endpoint
// takes them, and the router would otherwise redirect to a cleaned path.
func checkPath(escaped string) error {
	for _, seg := range strings.Split(strings.TrimPrefix(escaped, "/"), "/") {
		dec, err := url.PathUnescape(seg)
		switch {
		case err != nil:
			return errorf(http.StatusBadRequest, CodeBadRequest, "the request path is not validly percent-encoded")
		case dec == "." || dec == "..":
			return errorf(http.StatusBadRequest, CodeBadRequest, "the request path may not contain %q segments", dec)
		case strings.ContainsAny(dec, "/\\\x00"):
			return errorf(http.StatusBadRequest, CodeBadRequest, "the request path may not contain encoded slashes, backslashes or NUL")
		}
	}
	if strings.Contains(escaped, "//") {
		return errorf(http.StatusBadRequest, CodeBadRequest, "the request path may not contain empty segments")
	}
	return nil
}
