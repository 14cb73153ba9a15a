package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// linkProxy forwards TCP to the server until cut; cut closes every open
// connection and refuses new ones until restore.
type linkProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	delay  time.Duration
	conns  map[net.Conn]bool
}

func newLinkProxy(t *testing.T, target string) *linkProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &linkProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *linkProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *linkProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		if !down {
			p.conns[c] = true
		}
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		go p.handle(c)
	}
}

func (p *linkProxy) handle(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[s] = true
	delay := p.delay
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(s, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(slowWriter{c, delay}, s); done <- struct{}{} }()
	<-done
	c.Close()
	s.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

type slowWriter struct {
	w     io.Writer
	delay time.Duration
}

func (s slowWriter) Write(b []byte) (int, error) {
	time.Sleep(s.delay)
	return s.w.Write(b)
}

func (p *linkProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *linkProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *linkProxy) slow(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// start runs the binary with args and returns the first match of re in
// its output (waiting for it) and the whole output so far.
func start(t *testing.T, bin string, re *regexp.Regexp, args ...string) ([]string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); pw.Close() })
	// The scanner goroutine owns live (under mu); callers get a copy. (A
	// named result here would be reassigned by the return statement under
	// the goroutine's feet.)
	live := &bytes.Buffer{}
	found := make(chan []string, 1)
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			mu.Lock()
			live.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(live.String()); m != nil && !sent {
				sent = true
				found <- m
			}
			mu.Unlock()
		}
	}()
	select {
	case m := <-found:
		mu.Lock()
		defer mu.Unlock()
		snapshot := make([]byte, live.Len())
		copy(snapshot, live.Bytes())
		return m, bytes.NewBuffer(snapshot)
	case <-time.After(10 * time.Minute): // a large demo takes minutes to seed
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%v did not print %s:\n%s", args, re, live.String())
	}
	return nil, nil
}

// serverCall sends a request to the demo server as a user.
func serverCall(t *testing.T, method, url, token string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %s %s", method, url, resp.Status, rb)
	}
}

func serverGet(t *testing.T, url, token string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func screenshotDir(t *testing.T) string {
	if d := os.Getenv("OUTPOST_SCREENSHOTS"); d != "" {
		if !filepath.IsAbs(d) {
			d = filepath.Join("..", "..", d) // from ui/e2e to the repository root
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestPlayerOffline is the field worker's day in the browser: sign in,
// first sync with progress, a view and a form; the link to the server is
// cut; a row edited and one created offline; the icon and Device status
// show them pending; the link comes back and they upload; then two
// offline edits that the server refuses (conflict detection on) appear in
// Sync Errors, and retry and discard resolve them. Desktop and phone.
func TestPlayerOffline(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's chromium is required (apt-get install -y chromium; .ci/run installs it)")
	}
	began := time.Now()
	tmp := t.TempDir()
	bin := buildBinary(t, tmp)
	shots := screenshotDir(t)

	m, demoOut := start(t, bin, regexp.MustCompile(`serving at (http://\S+)[\s\S]*Press Ctrl\+C`), "demo", "--data", filepath.Join(tmp, "demo"), "--addr", "127.0.0.1:0", "--accounts", "30")
	server := m[1]
	token := func(user string) string {
		mm := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(user) + `\S*\s.*\s(opt_\S+)$`).FindStringSubmatch(demoOut.String())
		if mm == nil {
			t.Fatalf("no token for %s in:\n%s", user, demoOut.String())
		}
		return mm[1]
	}
	nora, admin := token("nora@"), token("admin@")
	serverCall(t, "PUT", server+"/api/sync/v1/settings", admin, map[string]bool{"conflictDetection": false})

	link := newLinkProxy(t, strings.TrimPrefix(server, "http://"))
	m, _ = start(t, bin, regexp.MustCompile(`(http://127\.0\.0\.1:\d+/\?key=\S+)`), "device", "--home", filepath.Join(tmp, "device"), "serve", "--addr", "127.0.0.1:0", "--retry", "500ms")
	playerURL := m[1]

	ctx, cancel := browser(t, tmp)
	defer cancel()

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			var body string
			body, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
		}
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			// The visible screen, as a person sees it; PNG.
			buf, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		})
	}
	state := func(s string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(`.sync-button[data-state="` + s + `"]`))
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}

	// Sign in (through the proxy) and pick the app.
	run("sign in", chromedp.Navigate(playerURL), chromedp.WaitVisible(chromedp.CSS(`input[name="server"]`)),
		chromedp.Click(chromedp.CSS(`[role="tab"]:nth-child(1)`)), shot("signin"),
		chromedp.Click(chromedp.CSS(`[role="tab"]:nth-child(2)`)),
		fill(`input[name="server"]`, link.url()),
		fill(`input[name="token"]`, nora), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.app-card`)), shot("apps"))

	// First sync, slowed so its progress shows.
	link.slow(150 * time.Millisecond)
	// The progress is recorded as it changes, so that a first sync that
	// finishes between two polls (a busy machine) still shows it was seen.
	run("watch progress", script(`(() => { window.seenProgress = '';
		new MutationObserver(() => { const t = document.querySelector('.progress-text')?.textContent ?? '';
			if (/[1-9][0-9]* of [0-9]+ rows/.test(t)) window.seenProgress = t }).observe(document.body, {subtree: true, childList: true, characterData: true});
		return true })()`))
	run("first sync", chromedp.Click(chromedp.Search(`//button[contains(., "Field Service")]`)),
		poll(`window.seenProgress !== ''`, 30*time.Second),
		shot("first-sync"))
	link.slow(0)
	run("view", chromedp.WaitVisible(chromedp.CSS(`table.rows tbody tr`)), state("Connected"), shot("view"))
	if n := text(`.pager span`); !strings.Contains(n, "of") {
		t.Fatalf("pager reads %q", n)
	}

	// Quick search narrows the list.
	first := text(`table.rows tbody tr td a`)
	word := strings.Fields(first)[0] // a work order number: WO-00123
	run("search", fill(`input.search`, word),
		poll(`document.querySelectorAll('table.rows tbody tr').length === 1`, 5*time.Second),
		fill(`input.search`, ""))

	// A form; then the link to the server is cut and the row edited.
	run("form", chromedp.Click(chromedp.CSS(`table.rows tbody tr td a`)), chromedp.WaitVisible(chromedp.CSS(`#f-description`)),
		poll(`document.querySelector('#f-customerid').selectedOptions[0].textContent.endsWith('Ltd')`, 5*time.Second), shot("form"))
	rowID := eval[string](t, ctx, `decodeURIComponent(location.hash.split('/').pop())`)
	woName := eval[string](t, ctx, `document.querySelector('#f-name').value`)

	// The customer's form lists its work orders (the 1:N relationship of
	// the profile); one opens its own form.
	run("related rows", chromedp.Click(chromedp.CSS(`a.open-lookup`)), chromedp.WaitVisible(chromedp.CSS(`section.related .related-rows li a`)),
		poll(`[...document.querySelectorAll('section.related .related-rows li a')].some(a => a.textContent === `+strconv.Quote(woName)+`)`, 5*time.Second),
		chromedp.ScrollIntoView(chromedp.CSS(`section.related`)), shot("form-related"),
		chromedp.Click(chromedp.Search(`//section[contains(@class,"related")]//a[.=`+strconv.Quote(woName)+`]`)),
		poll(`decodeURIComponent(location.hash.split('/').pop()) === `+strconv.Quote(rowID)+` && document.querySelector('#f-name') && document.querySelector('#f-name').value === `+strconv.Quote(woName), 5*time.Second))
	link.cut()
	run("edit offline", fill(`#f-description`, "Filter replaced offline"),
		chromedp.Click(chromedp.Search(`//button[.="Save"]`)), chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Saved on this device")]`)))
	run("create offline", chromedp.Navigate(strings.Split(playerURL, "?")[0]+"#/form/workorder/new"), chromedp.WaitVisible(chromedp.CSS(`#f-name`)),
		fill(`#f-name`, "Call back about the noise"),
		poll(`document.querySelectorAll('#f-customerid option').length > 2`, 5*time.Second),
		script(`(() => { const s = document.querySelector('#f-customerid'); s.value = s.options[1].value; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`),
		chromedp.Click(chromedp.Search(`//button[.="Save"]`)), chromedp.WaitVisible(chromedp.Search(`//h1[.="Call back about the noise"]`)),
		state("NotConnectedPendingUpsync"), shot("offline-pending"))
	run("status offline", chromedp.Click(chromedp.CSS(`.sync-button`)), chromedp.WaitVisible(chromedp.CSS(`.status-page`)),
		poll(`document.querySelector('[data-testid="pending-count"]').textContent === '2' && document.querySelectorAll('.pending-list li').length === 2`, 5*time.Second),
		shot("status-offline"))
	if n := text(`[data-testid="network"]`); n != "no connection to the server" {
		t.Fatalf("network reads %q offline", n)
	}

	// The link comes back: the changes upload and the icon reaches Connected.
	link.restore()
	run("upload", state("Connected"), poll(`document.querySelector('[data-testid="pending-count"]').textContent === '0'`, 10*time.Second))
	var wo struct {
		Description string `json:"description"`
	}
	serverGet(t, server+"/api/data/workorder("+rowID+")?$select=description", admin, &wo)
	if wo.Description != "Filter replaced offline" {
		t.Fatalf("the server's row after upload: %+v", wo)
	}

	// Conflicts: with conflict detection on, two rows edited offline that
	// the server changed meanwhile are rejected.
	serverCall(t, "PUT", server+"/api/sync/v1/settings", admin, map[string]bool{"conflictDetection": true})
	run("two rows", chromedp.Navigate(strings.Split(playerURL, "?")[0]+"#/"), chromedp.WaitVisible(chromedp.CSS(`table.rows tbody tr:nth-child(3)`)))
	ids := eval[[]string](t, ctx, `[...document.querySelectorAll('table.rows tbody tr td a')].slice(1, 3).map(a => decodeURIComponent(a.hash.split('/').pop()))`)
	link.cut()
	for i, id := range ids {
		run("conflicting edit", chromedp.Navigate(strings.Split(playerURL, "?")[0]+"#/form/workorder/"+id), chromedp.WaitVisible(chromedp.CSS(`#f-description`)),
			poll(`document.querySelector('#f-description').value !== undefined`, 5*time.Second),
			fill(`#f-description`, fmt.Sprintf("device edit %d", i)),
			chromedp.Click(chromedp.Search(`//button[.="Save"]`)), chromedp.WaitVisible(chromedp.Search(`//p[contains(., "Saved on this device")]`)))
		serverCall(t, "PATCH", server+"/api/data/workorder("+id+")", admin, map[string]any{"description": fmt.Sprintf("office edit %d", i)})
	}
	link.restore()
	run("sync errors", chromedp.Click(chromedp.CSS(`.sync-button`)), chromedp.WaitVisible(chromedp.CSS(`.status-page`)),
		poll(`document.querySelectorAll('.sync-error').length === 2`, 15*time.Second),
		state("ConnectedWithWarning"), shot("sync-errors"))
	run("retry", chromedp.Click(chromedp.CSS(`.sync-error:nth-child(1) button:nth-child(1)`)),
		poll(`document.querySelectorAll('.sync-error').length === 1`, 10*time.Second))
	retried := eval[string](t, ctx, `document.querySelector('.sync-error code').textContent`)
	run("discard", chromedp.Click(chromedp.CSS(`.sync-error:nth-child(1) button:nth-child(2)`)),
		poll(`document.querySelectorAll('.sync-error').length === 0`, 10*time.Second),
		state("Connected"), shot("status"))
	for i, id := range ids {
		serverGet(t, server+"/api/data/workorder("+id+")?$select=description", admin, &wo)
		discarded := strings.HasPrefix(id, retried)
		want := fmt.Sprintf("device edit %d", i)
		if discarded {
			want = fmt.Sprintf("office edit %d", i)
		}
		if wo.Description != want {
			t.Errorf("row %s after retry/discard: %q, want %q", id, wo.Description, want)
		}
	}

	// The phone: the same screens at 360×740.
	run("phone", chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate(strings.Split(playerURL, "?")[0]+"#/"), chromedp.WaitVisible(chromedp.CSS(`table.rows tbody tr`)), shot("phone-view"),
		chromedp.Click(chromedp.CSS(`table.rows tbody tr td a`)), chromedp.WaitVisible(chromedp.CSS(`#f-description`)), shot("phone-form"),
		chromedp.Click(chromedp.CSS(`.sync-button`)), chromedp.WaitVisible(chromedp.CSS(`.status-page`)), shot("phone-status"))
	t.Logf("browser test took %v; screenshots in %s", time.Since(began).Round(time.Millisecond), shots)
}

// poll waits until the expression is true in the page.
func poll(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout))(ctx, tg)
		return err
	})
}

// script runs an expression in the page for its effect.
func script(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](expr)(ctx, tg)
		return err
	})
}

// eval returns an expression's value in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// fill types a value into an input as a person would (the page sees an
// input event).
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	sb, _ := json.Marshal(sel)
	vb, _ := json.Marshal(value)
	return script(`(() => { const el = document.querySelector(` + string(sb) + `); el.focus(); el.value = ` + string(vb) + `; el.dispatchEvent(new Event('input', {bubbles: true})); return true })()`)
}

func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "outpost")
	build := exec.Command("go", "build", "-o", bin, "github.com/outposthq/outpost/cmd/outpost")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// browser starts Debian's Chromium, headless, with its own profile and
// none of its background traffic; the context ends after 150 s.
func browser(t *testing.T, dir string) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(1280, 860))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancelC()
		cancelA()
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 150*time.Second)
	return tctx, func() { cancelT(); cancelC(); cancelA() }
}
