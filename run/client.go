package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/go-dsynth/go-dsynth/api"
	"github.com/go-dsynth/go-dsynth/builddb"
)

// ErrNoOwner is returned by Dial when no process owns the build base (or
// the one that does answers no socket): callers may then open the database
// file briefly themselves.
var ErrNoOwner = errors.New("no process owns the build base")

// clientTimeout bounds a question to the owner (not an export, whose
// length is the history's).
const clientTimeout = 2 * time.Minute

// Client asks the owner of a build base over its Unix socket, with the
// API the owner serves (peer credentials make root admin), or a remote
// build service over HTTP with an API key (DialRemote).
type Client struct {
	sock  string // the socket, or the remote URL (for messages)
	base  string // the URL the API paths are appended to
	key   string // the API key sent to a remote service
	hc    *http.Client
	first chan net.Conn // the probe's connection until a request takes it
}

// DialRemote returns a client of the build service at rawURL (its API's
// scheme, host and port: http://build.example:8080), which sends key in
// X-API-Key. Nothing is sent until the first call.
func DialRemote(rawURL, key string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("remote service %q: give the API's address as http(s)://host:port", rawURL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = clientTimeout
	return &Client{sock: u.Scheme + "://" + u.Host, base: u.Scheme + "://" + u.Host, key: key, hc: &http.Client{Transport: tr}, first: make(chan net.Conn)}, nil
}

// Dial connects to the owner of buildBase. ErrNoOwner means nobody owns
// it: no socket, or a socket nobody listens on (an owner that died).
func Dial(buildBase string) (*Client, error) {
	sock := filepath.Join(buildBase, SocketName)
	if len(sock) > maxSocketPath {
		return nil, ErrNoOwner // no owner can listen there
	}
	c, err := net.Dial("unix", sock)
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return nil, ErrNoOwner
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("%s: a dsynth owns this build base, and only root or its own user may ask it: %w", sock, err)
	case err != nil:
		return nil, fmt.Errorf("owner socket %s: %w", sock, err)
	}
	// The probe's connection serves the first request, so an owner that
	// ends right after the probe is an error of that request, not a
	// second dial's.
	first := make(chan net.Conn, 1)
	first <- c
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			select {
			case c := <-first:
				return c, nil
			default:
			}
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		MaxIdleConns:          4,
		ResponseHeaderTimeout: clientTimeout,
	}
	return &Client{sock: sock, base: "http://owner", hc: &http.Client{Transport: tr}, first: first}, nil
}

// Close drops the client's connections.
func (c *Client) Close() {
	select {
	case conn := <-c.first:
		conn.Close()
	default:
	}
	c.hc.CloseIdleConnections()
}

// call sends one request and returns the answer's data.
func (c *Client) call(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, clientTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := c.request(ctx, method, path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.sock, err)
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  *api.ErrorBody  `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, fmt.Errorf("%s: %s %s: %s: %w", c.sock, method, path, resp.Status, err)
	}
	if env.Error != nil {
		return nil, &AnswerError{Method: method, Path: path, Err: &api.Error{HTTPStatus: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message}}
	}
	return env.Data, nil
}

// request makes a request of the API at path, with the client's key.
func (c *Client) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.key != "" {
		req.Header.Set("X-API-Key", c.key)
	}
	return req, nil
}

// AnswerError is an error answer of the owner or service: errors.As finds
// the *api.Error (its HTTP status and code) in it.
type AnswerError struct {
	Method, Path string
	Err          *api.Error
}

// Error says what was asked and what the service answered.
func (e *AnswerError) Error() string {
	return fmt.Sprintf("the build service answered %s %s: %s (%s)", e.Method, e.Path, e.Err.Message, e.Err.Code)
}

// Unwrap returns the *api.Error.
func (e *AnswerError) Unwrap() error { return e.Err }

// Stats returns the owner's answer to GET /api/v1/stats: the statistics
// of the whole history, as `dsynth db stats` prints them.
func (c *Client) Stats(ctx context.Context) (json.RawMessage, error) {
	return c.call(ctx, http.MethodGet, "/api/v1/stats", nil)
}

// Inputs returns the stored rebuild inputs of the origins, as a reader the
// planner uses in place of the database.
func (c *Client) Inputs(ctx context.Context, origins []string) (StoredInputs, error) {
	data, err := c.call(ctx, http.MethodPost, "/api/v1/inputs", api.InputsRequest{Origins: origins})
	if err != nil {
		return nil, err
	}
	var out api.InputsData
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("owner socket %s: inputs: %w", c.sock, err)
	}
	return StoredInputs(out.Inputs), nil
}

// StoredInputs are rebuild inputs fetched from the owner, by origin.
type StoredInputs map[string]*builddb.Inputs

// Inputs implements builder.InputsReader.
func (s StoredInputs) Inputs(origin string) (*builddb.Inputs, error) {
	if in, ok := s[origin]; ok {
		return in, nil
	}
	return nil, fmt.Errorf("inputs of %s: %w", origin, builddb.ErrNotFound)
}

// Export writes every build record as JSON lines to w, as the owner reads
// them (`dsynth db export`), and returns how many.
func (c *Client) Export(ctx context.Context, w io.Writer) (int, error) {
	return c.stream(ctx, "/api/v1/export", w)
}

// Dump writes the complete dump of the owner's database to w (`dsynth db
// export --all`, builddb.Dumper) and returns how many lines it wrote.
func (c *Client) Dump(ctx context.Context, w io.Writer) (int, error) {
	return c.stream(ctx, "/api/v1/database/export", w)
}

// Compact asks the owner to compact its database in place (refused while
// a build runs) and returns the sizes before and after.
func (c *Client) Compact(ctx context.Context) (api.CompactData, error) {
	var out api.CompactData
	data, err := c.call(ctx, http.MethodPost, "/api/v1/database/compact", nil)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("owner socket %s: compact: %w", c.sock, err)
	}
	return out, nil
}

// Clean asks the owner to clean its database as `dsynth db clean` does
// (refused while a build runs); olderThan is "" or an age ("90d").
func (c *Client) Clean(ctx context.Context, olderThan string) (builddb.CleanResult, error) {
	var out builddb.CleanResult
	data, err := c.call(ctx, http.MethodPost, "/api/v1/database/clean", api.CleanRequest{OlderThan: olderThan})
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("owner socket %s: clean: %w", c.sock, err)
	}
	return out, nil
}

// stream copies the JSON lines the owner answers at path to w and returns
// the count of its trailer.
func (c *Client) stream(ctx context.Context, path string, w io.Writer) (int, error) {
	req, err := c.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("owner socket %s: %w", c.sock, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var env struct {
			Error *api.ErrorBody `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Error == nil {
			return 0, fmt.Errorf("the build base's owner answered the export with %s", resp.Status)
		}
		return 0, fmt.Errorf("the build base's owner answered the export: %s (%s)", env.Error.Message, env.Error.Code)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return 0, fmt.Errorf("owner socket %s: export: %w", c.sock, err)
	}
	if msg := resp.Trailer.Get(api.ExportErrorTrailer); msg != "" {
		return 0, fmt.Errorf("the build base's owner: %s", msg)
	}
	n, err := strconv.Atoi(resp.Trailer.Get(api.ExportCountTrailer))
	if err != nil {
		return 0, fmt.Errorf("owner socket %s: export: no record count (the answer was cut short)", c.sock)
	}
	return n, nil
}
