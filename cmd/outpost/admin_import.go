package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// errDryRun rolls back a dry run's batch after its rows were checked.
var errDryRun = errors.New("dry run")

// importSource yields the rows of a CSV or NDJSON file one at a time, with
// the line each came from.
type importSource interface {
	next() (row map[string]any, line int, err error) // io.EOF at the end
}

// adminImport loads rows into a table through the bulk write path of the
// API (Writer.CreateMany / UpsertMany): the same type, privilege and
// ownership checks as single writes, in batches, with rejected rows
// reported instead of stopping the load.
func (a *admin) adminImport(ctx context.Context, args []string) error {
	fs := a.flags("import", "--table TABLE [--as LOGIN] [--upsert] [--dry-run] [--batch N] [--rejects FILE] FILE.csv|FILE.ndjson|-",
		"import --table account accounts.csv",
		"import --table contact --as nora@contoso.example --rejects rejected.csv contacts.ndjson",
		"import --table account --upsert --dry-run accounts.csv")
	table := fs.String("table", "", "the table to load")
	as := fs.String("as", "", "write as this user (id or login), with their privileges; default the system administrator (user-owned rows then need ownerid)")
	format := fs.String("format", "", "csv or ndjson (default from the file's extension; - reads NDJSON)")
	upsert := fs.Bool("upsert", false, "update rows whose primary key exists, create the others (UpsertMultiple)")
	dry := fs.Bool("dry-run", false, "check every row and report, writing nothing")
	batch := fs.Int("batch", 1000, fmt.Sprintf("rows per transaction (1 to %d)", platform.MaxBulkRows))
	rejects := fs.String("rejects", "", "write refused rows here as CSV (line, column, code, message); default: standard error")
	pos, err := parse(fs, args, "FILE")
	if err != nil {
		return err
	}
	if *table == "" {
		return fmt.Errorf("--table is required: the table to load (outpost admin table list shows them)")
	}
	if *batch < 1 || *batch > platform.MaxBulkRows {
		return fmt.Errorf("--batch %d: use 1 to %d rows per transaction", *batch, platform.MaxBulkRows)
	}
	p, err := a.platform(ctx)
	if err != nil {
		return err
	}
	t, err := p.Schema().LookupTable(*table)
	if err != nil {
		return err
	}
	by := platform.System()
	if *as != "" {
		id, err := a.userID(ctx, *as)
		if err != nil {
			return err
		}
		if by, err = p.Principal(ctx, id); err != nil {
			return err
		}
	}
	src, closeSrc, err := openImport(pos[0], *format, t)
	if err != nil {
		return err
	}
	defer closeSrc()
	rep, err := newRejectReport(*rejects, a.stderr)
	if err != nil {
		return err
	}
	defer rep.close()
	im := &importer{p: p, by: by, table: t.Name, upsert: *upsert, dry: *dry, progress: &importProgress{w: a.stderr, tty: isTerminal(a.stderr)}}
	began := time.Now()
	if err := im.run(ctx, src, *batch, rep); err != nil {
		return err
	}
	im.progress.finish()
	secs := time.Since(began).Seconds()
	verb := "imported"
	if *dry {
		verb = "checked (dry run, nothing written)"
	}
	fmt.Fprintf(a.stdout, "%s %d rows into %s in %.1f s (%.0f rows/s); %d refused", verb, im.ok, t.Name, secs, float64(im.ok+im.refused)/max(secs, 1e-9), im.refused)
	if im.refused > 0 && *rejects != "" {
		fmt.Fprintf(a.stdout, " (listed in %s)", *rejects)
	}
	fmt.Fprintln(a.stdout)
	return nil
}

// importer sends a source's rows in batches.
type importer struct {
	p           *platform.Platform
	by          *security.Principal
	table       string
	upsert, dry bool
	ok, refused int
	progress    *importProgress
}

func (im *importer) run(ctx context.Context, src importSource, size int, rep *rejectReport) error {
	rows := make([]map[string]any, 0, size)
	lines := make([]int, 0, size)
	for {
		row, line, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if row == nil { // a line that could not be read as a row
			continue
		}
		rows, lines = append(rows, row), append(lines, line)
		if len(rows) == size {
			if err := im.send(ctx, rows, lines, rep); err != nil {
				return err
			}
			rows, lines = rows[:0], lines[:0]
		}
		im.progress.show(im.ok+im.refused, line)
	}
	if len(rows) > 0 {
		return im.send(ctx, rows, lines, rep)
	}
	return nil
}

// send writes one batch: first whole (the fast path when every row is
// good), and when a row is refused, again row by row so that the good
// ones are written and the others reported.
func (im *importer) send(ctx context.Context, rows []map[string]any, lines []int, rep *rejectReport) error {
	write := func(opt platform.BulkOptions) (*platform.BulkResult, error) {
		var res *platform.BulkResult
		err := im.p.Write(ctx, func(w *platform.Writer) error {
			var err error
			if im.upsert {
				res, err = w.UpsertMany(ctx, im.by, im.table, cloneRows(rows), opt)
			} else {
				res, err = w.CreateMany(ctx, im.by, im.table, cloneRows(rows), opt)
			}
			if err == nil && im.dry {
				return errDryRun
			}
			return err
		})
		if errors.Is(err, errDryRun) {
			err = nil
		}
		return res, err
	}
	if _, err := write(platform.BulkOptions{}); err == nil {
		im.ok += len(rows)
		return nil
	} else if outpost.ErrorCode(err) == outpost.CodeInternal {
		return err
	}
	res, err := write(platform.BulkOptions{ContinueOnError: true})
	if err != nil {
		return err
	}
	for _, e := range res.Errors {
		rep.add(lines[e.Index], e.Err)
	}
	im.refused += len(res.Errors)
	im.ok += len(rows) - len(res.Errors)
	return nil
}

// cloneRows copies rows, which a write fills with defaults.
func cloneRows(rows []map[string]any) []map[string]any {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		m := make(map[string]any, len(r))
		for k, v := range r {
			m[k] = v
		}
		out[i] = m
	}
	return out
}

// openImport opens path ("-" for standard input) as a source of rows of t.
func openImport(path, format string, t *schema.Table) (importSource, func(), error) {
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			format = "csv"
		case ".ndjson", ".jsonl", ".json":
			format = "ndjson"
		default:
			if path != "-" {
				return nil, nil, fmt.Errorf("%s: say --format csv or --format ndjson (the extension tells neither)", path)
			}
			format = "ndjson"
		}
	}
	var r io.Reader = os.Stdin
	closeFn := func() {}
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		r, closeFn = f, func() { f.Close() }
	}
	switch format {
	case "csv":
		src, err := newCSVSource(r, t)
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return src, closeFn, nil
	case "ndjson":
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		return &ndjsonSource{sc: sc}, closeFn, nil
	}
	closeFn()
	return nil, nil, fmt.Errorf("--format %q: use csv or ndjson", format)
}

// ndjsonSource reads one JSON object per line; blank lines are skipped.
type ndjsonSource struct {
	sc   *bufio.Scanner
	line int
}

func (s *ndjsonSource) next() (map[string]any, int, error) {
	for s.sc.Scan() {
		s.line++
		b := strings.TrimSpace(s.sc.Text())
		if b == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(b))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil || row == nil {
			return nil, s.line, fmt.Errorf("line %d is not a JSON object of column values: %v", s.line, err)
		}
		return row, s.line, nil
	}
	if err := s.sc.Err(); err != nil {
		return nil, s.line, err
	}
	return nil, s.line, io.EOF
}

// csvSource reads a header of column names, then one row per record; an
// empty cell leaves its column unset, and cells are read as the column's
// type (numbers, true/false, text).
type csvSource struct {
	r    *csv.Reader
	cols []*schema.Column
}

func newCSVSource(r io.Reader, t *schema.Table) (*csvSource, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("the first line must name the columns: %w", err)
	}
	s := &csvSource{r: cr}
	for i, name := range header {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		c, ok := t.Column(name)
		if !ok {
			return nil, fmt.Errorf("column %d of the header, %q, is not a column of table %q (outpost admin table show %s lists them)", i+1, name, t.Name, t.Name)
		}
		s.cols = append(s.cols, c)
	}
	return s, nil
}

func (s *csvSource) next() (map[string]any, int, error) {
	rec, err := s.r.Read()
	line, _ := s.r.FieldPos(0)
	if err == io.EOF {
		return nil, line, io.EOF
	}
	if err != nil {
		return nil, line, fmt.Errorf("CSV: %w", err)
	}
	row := make(map[string]any, len(rec))
	for i, cell := range rec {
		if cell == "" {
			continue
		}
		row[s.cols[i].Name] = csvValue(s.cols[i].Type, cell)
	}
	return row, line, nil
}

// csvValue reads a cell as the JSON value a single write takes for the
// column's type; a cell that is not one is passed as text, so the write
// refuses it with the type's own message.
func csvValue(typ schema.Type, cell string) any {
	switch typ {
	case schema.Integer, schema.Decimal, schema.Money, schema.Choice:
		if json.Valid([]byte(cell)) && !strings.ContainsAny(cell, `"{}[]`) {
			return json.Number(cell)
		}
	case schema.Boolean:
		switch strings.ToLower(cell) {
		case "true", "1", "yes":
			return true
		case "false", "0", "no":
			return false
		}
	}
	return cell
}

// rejectReport lists refused rows: to a CSV file, or as lines on standard
// error.
type rejectReport struct {
	csv  *csv.Writer
	f    *os.File
	text io.Writer
}

func newRejectReport(path string, stderr io.Writer) (*rejectReport, error) {
	if path == "" {
		return &rejectReport{text: stderr}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := csv.NewWriter(f)
	if err := w.Write([]string{"line", "column", "code", "message"}); err != nil {
		f.Close()
		return nil, err
	}
	return &rejectReport{csv: w, f: f}, nil
}

func (r *rejectReport) add(line int, err error) {
	col, code, msg := outpost.ErrorTarget(err), string(outpost.ErrorCode(err)), outpost.ErrorMessage(err)
	if r.csv != nil {
		_ = r.csv.Write([]string{fmt.Sprint(line), col, code, msg})
		return
	}
	where := fmt.Sprintf("line %d", line)
	if col != "" {
		where += ", column " + col
	}
	fmt.Fprintf(r.text, "refused %s: %s (%s)\n", where, msg, code)
}

func (r *rejectReport) close() {
	if r.csv != nil {
		r.csv.Flush()
		r.f.Close()
	}
}

// importProgress shows the rows sent and the line reached: redrawn in
// place on a terminal, a line every 10,000 rows otherwise (logs get no
// carriage returns).
type importProgress struct {
	w          io.Writer
	tty, drawn bool
	last       time.Time
	lastTen    int // rows/10,000 when a line was last printed
}

func (p *importProgress) show(rows, line int) {
	if p.tty && time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	text := fmt.Sprintf("%d rows sent (line %d)", rows, line)
	if !p.tty {
		if rows/10000 == p.lastTen {
			return
		}
		p.lastTen = rows / 10000
		fmt.Fprintln(p.w, text)
		return
	}
	fmt.Fprintf(p.w, "\r%-60s", text)
	p.drawn = true
}

func (p *importProgress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
