package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/sqlgen"
)

// childResult is what a device child process reports on stdout.
type childResult struct {
	Rows        int     `json:"rows"`
	Seconds     float64 `json:"seconds"`
	PeakRSS     int64   `json:"peakRSS"`
	Received    int64   `json:"received"`
	Path        string  `json:"path"`
	Error       string  `json:"error,omitempty"`
	OpenSeconds float64 `json:"openSeconds"`
	// ReadySeconds is when the store was ready to use: the sync's search
	// index phase began (Seconds when there was none).
	ReadySeconds float64 `json:"readySeconds"`
}

// runChild runs "bench child firstsync|streams ...": a device process.
func runChild(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bench child: name a mode: firstsync or streams")
	}
	fs := flag.NewFlagSet("bench child", flag.ContinueOnError)
	server := fs.String("server", "", "server URL")
	token := fs.String("token", "", "bearer token")
	app := fs.String("app", "", "app id")
	dir := fs.String("dir", "", "device directory")
	n := fs.Int("n", 0, "streams to hold")
	devices := fs.String("device", "", "device ids of the streams, one per token")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if path := os.Getenv("OUTPOST_BENCH_CHILD_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var res childResult
	switch args[0] {
	case "firstsync":
		var readyAt time.Time
		start := time.Now()
		c, err := client.Open(ctx, client.Options{Dir: *dir, Server: *server, Token: *token, AppID: *app})
		res.OpenSeconds = time.Since(start).Seconds()
		if err == nil {
			var r *client.SyncResult
			r, err = c.Sync(ctx, client.SyncOptions{OnProgress: func(p client.Progress) {
				if p.Phase == "search index" && readyAt.IsZero() {
					readyAt = time.Now()
				}
			}})
			if err == nil {
				res.Rows = r.Upserted
			}
			res.Path = c.Path()
			_, res.Received = c.Traffic()
			_ = c.Close()
		}
		res.Seconds = time.Since(start).Seconds()
		res.ReadySeconds = res.Seconds
		if !readyAt.IsZero() {
			res.ReadySeconds = readyAt.Sub(start).Seconds()
		}
		if err != nil {
			res.Error = err.Error()
		}
	case "streams":
		return holdStreams(ctx, *server, strings.Split(*token, ","), strings.Split(*devices, ","), *n, stdout)
	default:
		return fmt.Errorf("bench child: unknown mode %q", args[0])
	}
	_, res.PeakRSS = rss("self")
	return json.NewEncoder(stdout).Encode(res)
}

// child runs a device child process and decodes its report.
func child(ctx context.Context, opts Options, mode string, args ...string) (*childResult, error) {
	cmd := exec.CommandContext(ctx, opts.Exe, append(append(append([]string{}, opts.ChildArgs...), "child", mode), args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("device process %s: %w: %s", mode, err, errb.String())
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("device process %s: bad report %q: %w", mode, out.String(), err)
	}
	return &res, nil
}

// firstSync runs the device's first sync in a child process, then the
// baseline: the same rows, read into memory from the device's store, are
// inserted into the same tables of a new SQLite file in one transaction
// with one prepared statement per table, and the same indexes built. The
// baseline opens its files with the device store's driver and settings
// (client.OpenSQLite), so both sides of the ratio use the same SQLite.
func firstSync(ctx context.Context, r *recorder, opts Options, e *env, dir string) error {
	res, err := child(ctx, opts, "firstsync", "--server", e.url, "--token", e.token, "--app", e.appID, "--dir", dir)
	if err != nil {
		return err
	}
	if res.Error != "" {
		return fmt.Errorf("first sync: %s", res.Error)
	}
	tables, n, err := readBaseline(ctx, res.Path)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if n != res.Rows {
		r.logf("warning: device stored %d rows, baseline read %d", res.Rows, n)
	}
	base, err := baselineInsert(ctx, tables, n, filepath.Join(dir, "baseline.db"), true)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	plain, err := baselineInsert(ctx, tables, n, filepath.Join(dir, "baseline-plain.db"), false)
	if err != nil {
		return fmt.Errorf("baseline without search indexes: %w", err)
	}
	// The store is ready to use (rows and indexes in) before the sync
	// builds the search indexes: that is what the user waits for, against
	// the same tables and indexes inserted in bulk; the whole sync, search
	// indexes built, against the same store with them.
	ready := float64(res.Rows) / res.ReadySeconds
	rate := float64(res.Rows) / res.Seconds
	r.add("firstsync", "rows", float64(res.Rows), "rows", 0, "", "", 0)
	r.add("firstsync", "throughput (ready to use)", ready, "rows/s", plain, "SQLite bulk insert, tables and indexes only, "+client.SQLiteDriver, ">=", 100000)
	r.add("firstsync", "ratio to baseline", ready/plain, "", 0, "", ">=", 0.9)
	r.add("firstsync", "throughput with search indexes built", rate, "rows/s", base, "SQLite bulk insert with the device's search index", "", 0)
	r.add("firstsync", "open (register, count rows)", res.OpenSeconds*1000, "ms", 0, "", "", 0)
	r.add("firstsync", "device peak RSS", float64(res.PeakRSS)/(1<<20), "MB", 0, "", "<=", 100)
	r.add("firstsync", "bytes received per row", float64(res.Received)/float64(max(1, res.Rows)), "B", 0, "", "", 0)
	return nil
}

// baselineTable is a data table of the device store, held in memory for
// the first-sync baseline.
type baselineTable struct {
	name, ddl string
	idx       []string
	// search builds the table's search index: its DDL and the statement
	// that fills it (none without one).
	search []string
	cols   int
	rows   [][]any
}

// readBaseline copies the data tables of the device store at path into
// memory, with the statements that build their indexes; n counts the rows.
func readBaseline(ctx context.Context, path string) (tables []*baselineTable, n int, err error) {
	src, err := client.OpenSQLite(path, true)
	if err != nil {
		return nil, 0, err
	}
	defer src.Close()
	for _, name := range []string{"workorder", "account", "contact"} {
		t := &baselineTable{name: name}
		if err := src.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&t.ddl); err != nil {
			return nil, 0, fmt.Errorf("read DDL of %s: %w", name, err)
		}
		ix, err := src.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, name)
		if err != nil {
			return nil, 0, err
		}
		for ix.Next() {
			var s string
			if err := ix.Scan(&s); err != nil {
				return nil, 0, err
			}
			t.idx = append(t.idx, s)
		}
		ix.Close()
		if t.search, err = searchIndexOf(ctx, src, name); err != nil {
			return nil, 0, err
		}
		rows, err := src.QueryContext(ctx, `SELECT * FROM "`+name+`"`)
		if err != nil {
			return nil, 0, err
		}
		cols, _ := rows.Columns()
		t.cols = len(cols)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return nil, 0, err
			}
			t.rows = append(t.rows, vals)
		}
		rows.Close()
		n += len(t.rows)
		tables = append(tables, t)
	}
	return tables, n, nil
}

// baselineInsert times inserting tables (n rows) into a fresh file, with
// their indexes and, when search is set, their search indexes; it returns
// rows/s.
func baselineInsert(ctx context.Context, tables []*baselineTable, n int, into string, search bool) (float64, error) {
	dst, err := client.OpenSQLite(into, false)
	if err != nil {
		return 0, err
	}
	defer dst.Close()
	dst.SetMaxOpenConns(1)
	for _, t := range tables {
		if _, err := dst.ExecContext(ctx, t.ddl); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	tx, err := dst.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	for _, t := range tables {
		ph := strings.TrimSuffix(strings.Repeat("?,", t.cols), ",")
		st, err := tx.PrepareContext(ctx, `INSERT INTO "`+t.name+`" VALUES (`+ph+`)`)
		if err != nil {
			_ = tx.Rollback()
			return 0, err
		}
		for _, row := range t.rows {
			if _, err := st.ExecContext(ctx, row...); err != nil {
				_ = tx.Rollback()
				return 0, err
			}
		}
		st.Close()
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	// Each table's indexes once its rows are in, in a transaction of their
	// own, as the device builds them (faster than in the rows' transaction
	// once a search index is among them).
	for _, t := range tables {
		stmts := t.idx
		if search {
			stmts = append(stmts[:len(stmts):len(stmts)], t.search...)
		}
		tx, err := dst.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				_ = tx.Rollback()
				return 0, err
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// searchIndexOf returns the statements that build the device's search
// index of table in db (the FTS5 table outpost_search_TABLE) as the device
// builds it: its DDL, its options, then filling it from the table's rows; none when the
// table has no search index.
func searchIndexOf(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	name := "outpost_search_" + table
	var ddl string
	err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&ddl)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the search index of %s: %w", table, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, name)
	if err != nil {
		return nil, fmt.Errorf("read the search index columns of %s: %w", table, err)
	}
	defer rows.Close()
	var quoted []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		quoted = append(quoted, sqlgen.SQLite.Quote(c))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	q := sqlgen.SQLite.Quote
	cols := strings.Join(quoted, ", ")
	stmts := []string{ddl}
	// The options the device set on its index (hashsize), before the rows.
	// SQLite's quote() writes each as an SQL literal.
	opts, err := db.QueryContext(ctx, `SELECT quote(k), quote(v) FROM `+q(name+"_config")+` WHERE k <> 'version'`)
	if err != nil {
		return nil, fmt.Errorf("read the search index options of %s: %w", table, err)
	}
	defer opts.Close()
	for opts.Next() {
		var k, v string
		if err := opts.Scan(&k, &v); err != nil {
			return nil, err
		}
		stmts = append(stmts, `INSERT INTO `+q(name)+` (`+q(name)+`, rank) VALUES (`+k+`, `+v+`)`)
	}
	if err := opts.Err(); err != nil {
		return nil, err
	}
	return append(stmts, `INSERT INTO `+q(name)+` (rowid, `+cols+`) SELECT rowid, `+cols+` FROM `+q(table)), nil
}

// capCheck opens the device user's store against a second server on the
// same data whose per-device cap is below the download set, and reports how
// long the refusal takes.
func capCheck(ctx context.Context, r *recorder, opts Options, url string, e *env, dir string, capRows int64) error {
	res, err := child(ctx, opts, "firstsync", "--server", url, "--token", e.token, "--app", e.appID, "--dir", dir)
	if err != nil {
		return err
	}
	if !strings.Contains(res.Error, "over the limit") {
		return fmt.Errorf("device over the %d-row cap was not refused: %+v", capRows, res)
	}
	r.logf("cap: refused with %q", res.Error)
	r.add("cap", "download set refused", float64(e.deviceRows), "rows", 0, "", "", 0)
	r.add("cap", "cap (rows per device)", float64(capRows), "rows", 0, "", "", 0)
	r.add("cap", "refusal time", res.Seconds*1000, "ms", 0, "", "", 0)
	r.add("cap", "device peak RSS", float64(res.PeakRSS)/(1<<20), "MB", 0, "", "", 0)
	return nil
}

func tempDir(name string) (string, func(), error) {
	d, err := os.MkdirTemp("", "outpost-bench-"+name+"-")
	return d, func() { _ = os.RemoveAll(d) }, err
}
