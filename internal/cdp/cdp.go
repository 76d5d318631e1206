// Package cdp drives a headless Chromium over the DevTools protocol, for
// the browser tests of the dashboard (package dashboard and cmd/dsynth's
// end-to-end test of the service): start the browser on a pipe, open a
// page, evaluate scripts in it, wait for a condition of its DOM (an
// evaluation loop bounded by a context, never a fixed sleep), set the
// viewport's width, take screenshots, and collect the page's script errors.
// It is test support: every function takes the test and fails it.
package cdp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-dsynth/go-dsynth/internal/testenv"
)

// Browser is a headless Chromium driven through the DevTools protocol on
// a pipe (--remote-debugging-pipe: the browser reads commands on its file
// descriptor 3 and writes answers and events on 4, each message ended by
// a NUL byte). Calls are sequential; events met while waiting for an
// answer are kept when they tell of a script error or a refused resource.
type Browser struct {
	t       testing.TB
	cmd     *exec.Cmd
	toB     *os.File      // our end of the browser's fd 3
	fromB   *os.File      // our end of the browser's fd 4
	rd      *bufio.Reader // over fromB
	id      int
	session string // the page's session (flattened)
	stderr  testenv.Buffer

	problems []string      // exceptions and console errors the page reported
	limit    time.Duration // bound of each WaitFor
}

// cdpMessage is an answer or an event.
type cdpMessage struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Start starts Chromium (path, from [FindChromium]) with a blank page attached, the Runtime
// and Log domains enabled. The browser is closed when the test ends.
func Start(t testing.TB, path string) *Browser {
	t.Helper()
	r3, w3, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r4, w4, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{t: t, toB: w3, fromB: r4, rd: bufio.NewReader(r4), limit: WaitLimit}
	b.cmd = exec.Command(path, append(Flags(t.TempDir()), "--remote-debugging-pipe", "about:blank")...)
	b.cmd.ExtraFiles = []*os.File{r3, w4} // fd 3 and fd 4
	b.cmd.Stderr = &b.stderr
	b.cmd.WaitDelay = 5 * time.Second
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	r3.Close()
	w4.Close()
	t.Cleanup(b.close)

	var target struct {
		TargetID string `json:"targetId"`
	}
	b.Must("Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.Must("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	for _, domain := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		b.Must(domain, nil, nil)
	}
	return b
}

// close asks the browser to quit and waits for it; it is killed if it
// does not.
func (b *Browser) close() {
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	b.session = ""
	b.toB.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if msg, err := json.Marshal(map[string]any{"id": b.id + 1, "method": "Browser.close"}); err == nil {
		b.toB.Write(append(msg, 0))
	}
	b.toB.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
	b.fromB.Close()
}

// Call sends a command to the page (or to the browser before the page is
// attached) and decodes its result into result, if not nil.
func (b *Browser) Call(method string, params any, result any) error {
	b.id++
	msg := map[string]any{"id": b.id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if b.session != "" {
		msg["sessionId"] = b.session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("cdp %s: %w", method, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	b.toB.SetWriteDeadline(deadline)
	if _, err := b.toB.Write(append(data, 0)); err != nil {
		return fmt.Errorf("cdp %s: send: %w", method, err)
	}
	b.fromB.SetReadDeadline(deadline)
	for {
		raw, err := b.rd.ReadBytes(0)
		if err != nil {
			return fmt.Errorf("cdp %s: read: %w\nchromium said:\n%s", method, err, b.stderr.String())
		}
		var m cdpMessage
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			return fmt.Errorf("cdp %s: decode %q: %w", method, raw, err)
		}
		if m.ID == 0 {
			b.event(m)
			continue
		}
		if m.ID != b.id {
			continue
		}
		if m.Error != nil {
			return fmt.Errorf("cdp %s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("cdp %s: decode result: %w", method, err)
			}
		}
		return nil
	}
}

// Must is Call that fails the test.
func (b *Browser) Must(method string, params any, result any) {
	b.t.Helper()
	if err := b.Call(method, params, result); err != nil {
		b.t.Fatal(err)
	}
}

// event keeps the page's uncaught exceptions and its console and log
// errors that are not failed requests (an API answering 401 or 404 is a
// "Failed to load resource" error the page handles).
func (b *Browser) event(m cdpMessage) {
	switch m.Method {
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(m.Params, &p)
		b.problems = append(b.problems, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level  string `json:"level"`
				Source string `json:"source"`
				Text   string `json:"text"`
			} `json:"entry"`
		}
		json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" && p.Entry.Source != "network" {
			b.problems = append(b.problems, p.Entry.Source+": "+p.Entry.Text)
		}
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string            `json:"type"`
			Args []json.RawMessage `json:"args"`
		}
		json.Unmarshal(m.Params, &p)
		if p.Type == "error" || p.Type == "warning" {
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", p.Type, p.Args))
		}
	}
}

// Navigate opens url in the page.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	var r struct {
		ErrorText string `json:"errorText"`
	}
	b.Must("Page.navigate", map[string]any{"url": url}, &r)
	if r.ErrorText != "" {
		b.t.Fatalf("navigate to %s: %s", url, r.ErrorText)
	}
}

// ErrScript is an exception thrown by an evaluated expression.
var ErrScript = errors.New("script error")

// Eval evaluates a JavaScript expression in the page (awaiting a promise)
// and decodes its JSON-able value into out, if not nil.
func (b *Browser) Eval(expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := b.Call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("%w: %s: %s %s", ErrScript, expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result.Value, out); err != nil {
			return fmt.Errorf("eval %s: decode %s: %w", expr, r.Result.Value, err)
		}
	}
	return nil
}

// MustEval is Eval that fails the test.
func (b *Browser) MustEval(expr string, out any) {
	b.t.Helper()
	if err := b.Eval(expr, out); err != nil {
		b.t.Fatal(err)
	}
}

// WaitLimit bounds each WaitFor, so that a page that never gets there
// fails in seconds.
const WaitLimit = 15 * time.Second

// WaitFor polls a boolean expression until it is true; after WaitLimit or
// ctx the test fails with what and the page's DOM. An expression that
// throws (the page is still loading) counts as false.
func (b *Browser) WaitFor(ctx context.Context, what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, b.limit)
	defer cancel()
	for {
		var ok bool
		err := b.Eval("Boolean("+expr+")", &ok)
		if err != nil && !errors.Is(err, ErrScript) {
			b.t.Fatal(err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("waiting for %s (%s): %v\nthe page:\n%s", what, expr, ctx.Err(), b.DOM())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DOM returns the page's DOM as HTML, as --dump-dom would.
func (b *Browser) DOM() string {
	var html string
	if err := b.Eval("document.documentElement.outerHTML", &html); err != nil {
		return "(no DOM: " + err.Error() + ")"
	}
	return html
}

// CheckProblems fails the test for every exception or error the page
// reported (a script error, a resource the security policy refused).
func (b *Browser) CheckProblems() {
	b.t.Helper()
	if len(b.problems) > 0 {
		b.t.Errorf("the page reported problems:\n%s", strings.Join(b.problems, "\n"))
	}
}
