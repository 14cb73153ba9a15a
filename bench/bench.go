// Package bench is Outpost's benchmark suite: it builds a field-service
// data set, runs every scenario of docs/benchmarks.md against each store
// engine, and reports each figure next to a baseline measured in the same
// run (the physical limit it is compared with) and their ratio.
//
// The suite is a program, not a test: "outpost bench" runs it. Devices
// whose memory is measured run in child processes of the same binary
// ("outpost bench child ..."), so the figure is the device's alone.
package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/outposthq/outpost/store"
)

// Opener opens a fresh, empty database of engine ("sqlite" or
// "postgres"); name tells data sets of one run apart. The returned func
// closes it and removes its data.
type Opener func(ctx context.Context, engine, name string) (*store.DB, func() error, error)

// Options are what the caller (cmd/outpost) wires in.
type Options struct {
	// Open opens fresh databases; it is the only place a concrete store is named.
	Open Opener
	// Exe is the path of a binary whose "bench child" runs device
	// processes; default os.Executable.
	Exe string
	// ChildArgs are the arguments before "child ..." (default "bench").
	ChildArgs []string
}

// Figure is one measured value with its in-run baseline.
type Figure struct {
	Engine   string  `json:"engine"`
	Scenario string  `json:"scenario"`
	Metric   string  `json:"metric"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	// Baseline is the same quantity measured for the physical limit in
	// the same run (0 when the figure has none); Ratio is Value/Baseline.
	Baseline     float64 `json:"baseline,omitempty"`
	BaselineName string  `json:"baselineName,omitempty"`
	Ratio        float64 `json:"ratio,omitempty"`
	// Target is the target, as text ("≥ 100000"), and Met whether
	// the value reaches it.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
}

// Report is the JSON document a run writes.
type Report struct {
	Started time.Time `json:"started"`
	Scale   float64   `json:"scale"`
	Machine string    `json:"machine"`
	Command string    `json:"command"`
	Figures []Figure  `json:"figures"`
	Seconds float64   `json:"seconds"`
}

// config is one run's settings.
type config struct {
	scale     float64
	engines   []string
	scenarios []string
	out       io.Writer
	log       io.Writer
}

func (c *config) want(s string) bool {
	if slices.Contains(OptInScenarios, s) {
		return slices.Contains(c.scenarios, s)
	}
	return len(c.scenarios) == 0 || slices.Contains(c.scenarios, s)
}

// n scales base, never below lo.
func (c *config) n(base, lo int) int { return max(lo, int(math.Round(float64(base)*c.scale))) }

// Scenarios in run order.
var Scenarios = []string{"writes", "firstsync", "compress", "cap", "bulk", "delta", "write", "move", "fanout", "upload"}

// OptInScenarios run only when named: capfull fills a device to the
// 3,000,000-row cap.
var OptInScenarios = []string{"capfull"}

// Run runs "outpost bench ARGS".
func Run(ctx context.Context, args []string, opts Options, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "child" {
		return runChild(ctx, args[1:], stdout)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.Float64("scale", 0.01, "data set scale: 1 is the full 1,000,000-work-order server and a 200,000-row device")
	engines := fs.String("engines", "sqlite,postgres", "comma-separated engines to run")
	only := fs.String("scenarios", "", "comma-separated scenarios (default all): "+strings.Join(Scenarios, ",")+"; opt-in: "+strings.Join(OptInScenarios, ","))
	jsonPath := fs.String("json", "", "write the report as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server side (this process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scale <= 0 || *scale > 3 {
		return fmt.Errorf("--scale must be in (0, 3], got %v", *scale)
	}
	if opts.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own binary for device processes: %w", err)
		}
		opts.Exe = exe
	}
	if opts.ChildArgs == nil {
		opts.ChildArgs = []string{"bench"}
	}
	cfg := &config{scale: *scale, out: stdout, log: stderr}
	for _, e := range strings.Split(*engines, ",") {
		if e = strings.TrimSpace(e); e != "" {
			cfg.engines = append(cfg.engines, e)
		}
	}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !slices.Contains(Scenarios, s) && !slices.Contains(OptInScenarios, s) {
				return fmt.Errorf("unknown scenario %q: use %s", s, strings.Join(append(slices.Clone(Scenarios), OptInScenarios...), ","))
			}
			cfg.scenarios = append(cfg.scenarios, s)
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep := &Report{Started: time.Now().UTC(), Scale: *scale, Machine: machine(), Command: "outpost bench " + strings.Join(args, " ")}
	for _, engine := range cfg.engines {
		figs, err := runEngine(ctx, cfg, opts, engine)
		rep.Figures = append(rep.Figures, figs...)
		if err != nil {
			printTable(stdout, rep.Figures)
			return fmt.Errorf("%s: %w", engine, err)
		}
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	printTable(stdout, rep.Figures)
	fmt.Fprintf(stdout, "\n%s, scale %g, %.1f s\n", rep.Machine, rep.Scale, rep.Seconds)
	if *jsonPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonPath, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *jsonPath, err)
		}
	}
	return nil
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(l[strings.Index(l, ":")+1:])
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, runtime.Version())
}

// recorder collects one engine's figures and logs progress.
type recorder struct {
	engine string
	cfg    *config
	figs   []Figure
}

func (r *recorder) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.log, "bench %s: %s\n", r.engine, fmt.Sprintf(format, args...))
}

// add records a figure. cmp is ">=" or "<=" against target (0: none).
func (r *recorder) add(scenario, metric string, v float64, unit string, base float64, baseName string, cmp string, target float64) {
	f := Figure{Engine: r.engine, Scenario: scenario, Metric: metric, Value: v, Unit: unit, Baseline: base, BaselineName: baseName}
	if base != 0 {
		f.Ratio = v / base
	}
	if cmp != "" {
		met := (cmp == ">=" && v >= target) || (cmp == "<=" && v <= target)
		f.Met, f.Target = &met, fmt.Sprintf("%s %s", cmp, num(target))
	}
	r.figs = append(r.figs, f)
	r.logf("%s %s = %s %s", scenario, metric, num(v), unit)
}

func num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

func printTable(w io.Writer, figs []Figure) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "engine\tscenario\tmetric\tvalue\tunit\tbaseline\tratio\ttarget\tmet")
	for _, f := range figs {
		base, ratio, met := "", "", ""
		if f.Baseline != 0 {
			base = num(f.Baseline) + " (" + f.BaselineName + ")"
			ratio = fmt.Sprintf("%.3f", f.Ratio)
		}
		if f.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*f.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Engine, f.Scenario, f.Metric, num(f.Value), f.Unit, base, ratio, f.Target, met)
	}
	_ = tw.Flush()
}

// percentile returns the p-th percentile (0..100) of ds in milliseconds.
func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return float64(s[max(0, min(i, len(s)-1))]) / float64(time.Millisecond)
}

// rss returns the process's resident and peak resident memory in bytes
// (Linux /proc; 0 elsewhere).
func rss(pid string) (cur, peak int64) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		var kb int64
		if strings.HasPrefix(l, "VmRSS:") {
			fmt.Sscanf(strings.TrimSpace(l[6:]), "%d", &kb)
			cur = kb << 10
		} else if strings.HasPrefix(l, "VmHWM:") {
			fmt.Sscanf(strings.TrimSpace(l[6:]), "%d", &kb)
			peak = kb << 10
		}
	}
	return cur, peak
}
