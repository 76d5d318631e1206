package api

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-dsynth/go-dsynth/builddb"
	"github.com/go-dsynth/go-dsynth/config"
	"github.com/go-dsynth/go-dsynth/ports"
)

// FuzzParseQuery checks the query parsing of the API on arbitrary raw
// queries: parseQuery accepts exactly what url.ParseQuery reads without
// error, and reads it the same; a refused query is a 400 bad_request; the
// records filter (parseFilter) and the packages filter (parsePackageFilter)
// never panic, and what they accept keeps their bounds — a limit from 1 to
// MaxLimit, times a database can hold with since before until, known
// statuses each once, cursors of the right form that round-trip.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "limit=1;status=x", "%zz=1", "a=%zz", "a=1&&b=2", "=1", "&", ";",
		"status=failed,success&origin=devel/&worker=3&limit=10&order=oldest",
		"since=2025-01-15T10:00:00Z&until=2025-01-16T00:00:00Z",
		"since=9999-12-31T23:59:59Z", "until=0001-01-01T00:00:00Z",
		"since=2262-04-11T23:47:16.854775807Z", "since=2025-01-15T10:00:00+14:00",
		"limit=0", "limit=1000", "limit=-1", "limit=1e3", "limit=1&limit=2",
		"cursor=" + strings.Repeat("ab", 24), "cursor=" + strings.Repeat("AB", 24),
		"cursor=" + hex.EncodeToString([]byte("misc/hello@py39")), "cursor=2e2e2f2e2e",
		"status=running,%20success", "origin=a%00b", "origin=%E2%80%A8", "name=x&category=devel&status=none",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseQuery(raw)
		std, stdErr := url.ParseQuery(raw)
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("parseQuery(%q): %v; url.ParseQuery: %v", raw, err, stdErr)
		}
		if err != nil {
			wantBadRequest(t, raw, err)
			return
		}
		if len(q) != 0 || len(std) != 0 {
			if !reflect.DeepEqual(q, std) {
				t.Fatalf("parseQuery(%q) = %v; url.ParseQuery = %v", raw, q, std)
			}
		}
		if fl, err := parseFilter(q); err != nil {
			wantBadRequest(t, raw, err)
		} else {
			checkFilter(t, raw, fl)
		}
		r := &http.Request{URL: &url.URL{RawQuery: raw}}
		if pf, err := parsePackageFilter(r); err != nil {
			wantBadRequest(t, raw, err)
		} else {
			checkPackageFilter(t, raw, pf)
		}
	})
}

// wantBadRequest fails unless err is the API's 400 bad_request.
func wantBadRequest(t *testing.T, raw string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != http.StatusBadRequest || e.Code != CodeBadRequest || e.Message == "" {
		t.Fatalf("query %q: %#v is not a 400 %s with a message", raw, err, CodeBadRequest)
	}
}

func checkFilter(t *testing.T, raw string, f builddb.Filter) {
	t.Helper()
	if f.Limit < 1 || f.Limit > MaxLimit {
		t.Fatalf("query %q: limit %d", raw, f.Limit)
	}
	for _, tm := range []struct {
		name string
		v    any
		ok   bool
	}{{"since", f.Since, f.Since.IsZero() || inRange(f.Since)}, {"until", f.Until, f.Until.IsZero() || inRange(f.Until)}} {
		if !tm.ok {
			t.Fatalf("query %q: %s %v out of range", raw, tm.name, tm.v)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		t.Fatalf("query %q: since %v not before until %v", raw, f.Since, f.Until)
	}
	for i, s := range f.Status {
		if !s.Valid() || slices.Contains(f.Status[:i], s) {
			t.Fatalf("query %q: statuses %v", raw, f.Status)
		}
	}
	if f.Worker != nil && (*f.Worker < 0 || *f.Worker >= config.MaxBuilders) {
		t.Fatalf("query %q: worker %d", raw, *f.Worker)
	}
	if len(f.OriginPrefix) > 256 {
		t.Fatalf("query %q: origin prefix of %d bytes", raw, len(f.OriginPrefix))
	}
	if c := f.Cursor; c != "" {
		b, err := hex.DecodeString(c)
		if err != nil || len(b) != 24 || hex.EncodeToString(b) != c {
			t.Fatalf("query %q: cursor %q is not 24 bytes in lower-case hex", raw, c)
		}
	}
}

func checkPackageFilter(t *testing.T, raw string, f packageFilter) {
	t.Helper()
	if f.limit < 1 || f.limit > MaxLimit {
		t.Fatalf("query %q: limit %d", raw, f.limit)
	}
	for i, s := range f.status {
		if (s != "none" && !builddb.Status(s).Valid()) || slices.Contains(f.status[:i], s) {
			t.Fatalf("query %q: statuses %v", raw, f.status)
		}
	}
	for _, v := range []string{f.prefix, f.category, f.name} {
		if len(v) > 256 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			t.Fatalf("query %q: filter value %q", raw, v)
		}
	}
	if f.after != "" {
		// The cursor is the last origin of the previous page: it is a
		// valid origin, and the cursor a page would give for it reads
		// back as the same origin.
		if _, err := ports.ParseOrigin(f.after); err != nil {
			t.Fatalf("query %q: cursor origin %q: %v", raw, f.after, err)
		}
		again, err := parsePackageFilter(&http.Request{URL: &url.URL{RawQuery: "cursor=" + hex.EncodeToString([]byte(f.after))}})
		if err != nil || again.after != f.after {
			t.Fatalf("query %q: the cursor of %q reads back as %q, %v", raw, f.after, again.after, err)
		}
	}
}
