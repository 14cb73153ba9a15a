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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests' shared setup. Everything another goroutine touches
// is owned by a helper that guards it and that waits for its goroutines
// in t.Cleanup before the test's temporary files go: a process's output
// (proc), the link proxy's connections (linkProxy) and Chromium's error
// log (browserLog). No goroutine but the test's calls t's methods, so no
// log line can race with the end of the test.

// stackOptions chooses what a test starts.
type stackOptions struct {
	// Accounts per technician the demo seeds.
	Accounts int
	// Agent starts `outpost device serve`, whose link to the server goes
	// through a proxy the test can slow and cut.
	Agent bool
	// AgentArgs are more flags of `outpost device serve`.
	AgentArgs []string
	// Width and Height of the browser's window; default 1280×860.
	Width, Height int
	// DemoArgs are more flags of `outpost demo` (single sign-on, say).
	DemoArgs []string
	// Conflicts leaves conflict detection on, as the demo starts it.
	Conflicts bool
}

// stack is a demo server, optionally a device agent behind a link proxy,
// and a headless Chromium.
type stack struct {
	t      *testing.T
	tmp    string
	bin    string
	shots  string
	server string // the demo server's address
	demo   *proc

	link      *linkProxy // nil without an agent
	playerURL string     // the agent's printed link, with its key
	base      string     // the agent's address

	ctx context.Context // the browser's
}

// newStack builds the binary and starts what opts ask for; conflict
// detection is off on the demo server unless opts.Conflicts.
func newStack(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's chromium is required (apt-get install -y chromium; .ci/run installs it)")
	}
	s := &stack{t: t, tmp: t.TempDir(), shots: screenshotDir(t)}
	s.bin = buildBinary(t, s.tmp)
	m, demo := start(t, s.bin, regexp.MustCompile(`serving at (http://\S+)[\s\S]*Press Ctrl\+C`),
		append([]string{"demo", "--data", filepath.Join(s.tmp, "demo"), "--addr", "127.0.0.1:0", "--accounts", fmt.Sprint(opts.Accounts)}, opts.DemoArgs...)...)
	s.server, s.demo = m[1], demo
	if !opts.Conflicts {
		serverCall(t, "PUT", s.server+"/api/sync/v1/settings", s.token("admin@"), map[string]bool{"conflictDetection": false})
	}
	if opts.Agent {
		s.link = newLinkProxy(t, strings.TrimPrefix(s.server, "http://"))
		args := append([]string{"device", "--home", filepath.Join(s.tmp, "device"), "serve", "--addr", "127.0.0.1:0", "--retry", "500ms"}, opts.AgentArgs...)
		m, _ = start(t, s.bin, regexp.MustCompile(`(http://127\.0\.0\.1:\d+/\?key=\S+)`), args...)
		s.playerURL = m[1]
		s.base = strings.Split(s.playerURL, "/?")[0]
	}
	w, h := opts.Width, opts.Height
	if w == 0 {
		w, h = 1280, 860
	}
	s.ctx = browser(t, s.tmp, w, h)
	return s
}

// token returns the API token the demo printed for the user whose name
// starts with user (such as "nora@").
func (s *stack) token(user string) string {
	s.t.Helper()
	out := s.demo.output()
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(user) + `\S*\s.*\s(opt_\S+)$`).FindStringSubmatch(out)
	if m == nil {
		s.t.Fatalf("no token for %s in:\n%s", user, out)
	}
	return m[1]
}

// password returns the sign-in name and password the demo printed for
// the user whose name starts with user.
func (s *stack) password(user string) (name, password string) {
	s.t.Helper()
	out := s.demo.output()
	m := regexp.MustCompile(`(?m)^\s+(` + regexp.QuoteMeta(user) + `\S+)\s.*?\s(\S+)\s+opt_\S+$`).FindStringSubmatch(out)
	if m == nil {
		s.t.Fatalf("no password for %s in:\n%s", user, out)
	}
	return m[1], m[2]
}

// page is the player's address for a route, such as "#/status".
func (s *stack) page(route string) string { return s.base + "/" + route }

// run runs steps in the page; on failure it stops the test with the
// page's text.
func (s *stack) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	s.runIn(s.ctx, what, steps...)
}

// runIn is run in another context, such as a frame's.
func (s *stack) runIn(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		s.t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
}

// text returns the text of the first element sel selects.
func (s *stack) text(sel string) string {
	s.t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		s.t.Fatalf("read %s: %v", sel, err)
	}
	return v
}

// shot saves the visible screen, as a person sees it, as name.png.
func (s *stack) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.CaptureScreenshot()(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(s.shots, name+".png"), buf, 0o644)
	})
}

// signIn signs the player in to the server through the link proxy with
// token and waits for the app picker.
func (s *stack) signIn(token string) {
	s.t.Helper()
	s.run("sign in", chromedp.Navigate(s.playerURL), chromedp.WaitVisible(chromedp.CSS(`input[name="server"]`)),
		chromedp.Click(chromedp.CSS(`[role="tab"]:nth-child(2)`)),
		fill(`input[name="server"]`, s.link.url()),
		fill(`input[name="token"]`, token), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.app-card`)))
}

// syncState waits for the player's globe to show Connection.Sync state.
func syncState(state string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`.sync-button[data-state="` + state + `"]`))
}

// proc is a started process and its output so far. A goroutine reads the
// output into the buffer under mu; output hands out copies.
type proc struct {
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{} // closed when the reader has read everything
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// start runs the binary with args and waits for re to match its output;
// it returns the match and the process. Cleanup kills the process and
// waits until its output has been read to the end.
func start(t *testing.T, bin string, re *regexp.Regexp, args ...string) ([]string, *proc) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{done: make(chan struct{})}
	found := make(chan []string, 1)
	go func() {
		defer close(p.done)
		br := bufio.NewReader(pr) // no line length limit: the reader never stops before EOF
		sent := false
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				p.mu.Lock()
				p.out.WriteString(line)
				var m []string
				if !sent {
					m = re.FindStringSubmatch(p.out.String())
				}
				p.mu.Unlock()
				if m != nil {
					sent = true
					found <- m
				}
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait() // returns once the process's output is copied into pw
		pw.Close()
		<-p.done
	})
	select {
	case m := <-found:
		return m, p
	case <-time.After(10 * time.Minute): // a large demo takes minutes to seed
		t.Fatalf("%v did not print %s:\n%s", args, re, p.output())
	}
	return nil, nil
}

// browserLog keeps what Chromium's connection reports on its own
// goroutines; the test logs it when it ends.
type browserLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *browserLog) errorf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *browserLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// browser starts Debian's Chromium, headless, with its own profile and
// none of its background traffic, at w×h; its context ends after 150 s.
// Cleanup closes the browser and waits for it.
func browser(t *testing.T, dir string, w, h int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(w, h))
	log := &browserLog{}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(log.errorf))
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(cctx) // closes the browser and waits for it
		cancel()
		cancelC()
		cancelA() // waits for the browser process
		if s := log.String(); s != "" {
			t.Logf("chromium reported:\n%s", s)
		}
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 150*time.Second)
	t.Cleanup(cancelT)
	return tctx
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

// serverGet reads a JSON answer of the demo server as a user.
func serverGet(t *testing.T, url, token string, out any) {
	t.Helper()
	b := serverBytes(t, url, token)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// serverBytes reads an answer of the demo server as a user.
func serverBytes(t *testing.T, url, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v %s", url, resp.Status, err, b)
	}
	return b
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

// linkProxy forwards TCP to the server until cut; cut closes every open
// connection and refuses new ones until restore. Cleanup stops it and
// waits for its goroutines.
type linkProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup // serve and the connections' goroutines
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
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *linkProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *linkProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		if !down {
			p.conns[c] = true
			p.wg.Add(1)
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
	defer p.wg.Done()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		p.forget(c)
		return
	}
	p.mu.Lock()
	if p.down { // cut while dialling
		p.mu.Unlock()
		c.Close()
		s.Close()
		p.forget(c)
		return
	}
	p.conns[s] = true
	delay := p.delay
	p.mu.Unlock()
	var copies sync.WaitGroup
	copies.Add(2)
	go func() { defer copies.Done(); _, _ = io.Copy(s, c); s.Close(); c.Close() }()
	go func() { defer copies.Done(); _, _ = io.Copy(slowWriter{c, delay}, s); s.Close(); c.Close() }()
	copies.Wait()
	p.forget(c, s)
}

func (p *linkProxy) forget(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
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
