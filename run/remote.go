package run

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/go-dsynth/go-dsynth/api"
)

// Submit asks the build service to queue a build (POST /api/v1/builds).
func (c *Client) Submit(ctx context.Context, req api.BuildRequest) (*api.SubmitData, error) {
	data, err := c.call(ctx, http.MethodPost, "/api/v1/builds", req)
	if err != nil {
		return nil, err
	}
	var out api.SubmitData
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: submit: %w", c.sock, err)
	}
	return &out, nil
}

// Cancel asks the build service to cancel a build (DELETE
// /api/v1/builds/{id}); it answers once the build has stopped.
func (c *Client) Cancel(ctx context.Context, id uuid.UUID) (*api.Build, error) {
	return c.buildCall(ctx, http.MethodDelete, id)
}

// Build returns one build of the service (GET /api/v1/builds/{id}).
func (c *Client) Build(ctx context.Context, id uuid.UUID) (*api.Build, error) {
	return c.buildCall(ctx, http.MethodGet, id)
}

func (c *Client) buildCall(ctx context.Context, method string, id uuid.UUID) (*api.Build, error) {
	data, err := c.call(ctx, method, "/api/v1/builds/"+id.String(), nil)
	if err != nil {
		return nil, err
	}
	var out api.BuildData
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: build %s: %w", c.sock, id, err)
	}
	return &out.Build, nil
}

// StreamMessage is one message of the event stream: its id, type and
// JSON.
type StreamMessage struct {
	ID   string
	Type string
	Data []byte
}

// Events reads the event stream (GET /api/v1/events, Server-Sent Events)
// from after lastID (all kept messages when lastID is "0", only new ones
// when it is empty), and calls fn with each message until fn returns
// false, ctx ends or the stream does. opened, when set, is called once
// the stream is open (before any message), so a caller can act knowing it
// will see what follows.
func (c *Client) Events(ctx context.Context, lastID string, opened func(), fn func(StreamMessage) bool) error {
	path := "/api/v1/events"
	if lastID != "" {
		path += "?last_event_id=" + url.QueryEscape(lastID)
	}
	req, err := c.request(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	// The stream has no end: no client timeout, only ctx.
	resp, err := c.streamClient().Do(req)
	if err != nil {
		return fmt.Errorf("%s: event stream: %w", c.sock, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var env struct {
			Error *api.ErrorBody `json:"error"`
		}
		if json.NewDecoder(resp.Body).Decode(&env) == nil && env.Error != nil {
			return &AnswerError{Method: http.MethodGet, Path: path, Err: &api.Error{HTTPStatus: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message}}
		}
		return fmt.Errorf("%s: event stream: %s", c.sock, resp.Status)
	}
	if opened != nil {
		opened()
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var m StreamMessage
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if m.Type != "" {
				if !fn(m) {
					return nil
				}
			}
			m = StreamMessage{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			m.ID = line[len("id: "):]
		case strings.HasPrefix(line, "event: "):
			m.Type = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			m.Data = append(m.Data, line[len("data: "):]...)
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("%s: event stream: %w", c.sock, err)
	}
	return ctx.Err()
}

// streamClient is the client without a header timeout, for the stream.
func (c *Client) streamClient() *http.Client {
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok {
		return c.hc
	}
	tr = tr.Clone()
	tr.ResponseHeaderTimeout = 0
	return &http.Client{Transport: tr}
}
