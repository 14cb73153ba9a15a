package client

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/sqlgen"
)

// Search is a quick search: the rows where any of Columns contains Text,
// exactly as the contains filter function matches (case-sensitive).
type Search struct {
	Text    string
	Columns []string
}

// The search index of a table is an SQLite FTS5 table with the trigram
// tokenizer over the table's text and memo columns: a phrase of three or
// more characters matches exactly the rows whose column holds it as a
// substring, so the index narrows a search to its candidates and the
// contains test (GLOB) then runs on those only. The index is contentless
// (it keeps no copy of the text) and triggers on the table keep it in
// step with every write: downloads, deltas, local edits and upload
// results. It is built at the end of the sync that made the store ready
// (buildSearchIndexes), so the app can use the store before it is. A
// build of SQLite without FTS5 (the cgo driver without its sqlite_fts5
// tag) has no index and searches by scanning, with the same results.

// minIndexedSearch is the shortest search text the trigram index answers.
const minIndexedSearch = 3

// searchHashSize is the index's hashsize option: how many bytes of new
// index entries one transaction gathers in memory before FTS5 writes them
// out as a segment (default 1 MB). A trigram index makes an entry of every
// three characters, so building it from a first sync's rows with the
// default wrote many small segments and merged them again and again: 100,000
// rows of three text columns took 1.92 s with 1 MB, 1.46 s with 4 MB, 1.25 s
// with 8 MB, 0.99 s with 16 MB and 0.98 s with 64 MB. The memory is used
// only while a transaction writes that much (FTS5 writes its entries out
// at each commit), so small writes are unchanged.
const searchHashSize = 16 << 20

func searchIndexName(table string) string { return "outpost_search_" + table }

// searchBuildName and searchPendingName name the tables of a build of
// table's search index; "$" is in no table name, so they are nobody's
// index.
func searchBuildName(table string) string   { return searchIndexName(table) + "$build" }
func searchPendingName(table string) string { return searchIndexName(table) + "$pending" }

// searchColumnsOf are the columns the search index of lt covers.
func searchColumnsOf(lt *localTable) []string {
	var out []string
	for _, c := range lt.def.Columns {
		if t := schema.Type(c.Type); t == schema.Text || t == schema.Memo {
			out = append(out, c.Name)
		}
	}
	return out
}

// ftsAvailable reports whether the SQLite library has FTS5 with the
// trigram tokenizer and deletes from contentless tables (3.43).
func ftsAvailable(ctx context.Context, q execer) (bool, error) {
	var fts5 int
	var version string
	if err := q.QueryRowContext(ctx, `SELECT sqlite_compileoption_used('ENABLE_FTS5'), sqlite_version()`).Scan(&fts5, &version); err != nil {
		return false, fmt.Errorf("sqlite version: %w", err)
	}
	var major, minor int
	fmt.Sscanf(version, "%d.%d", &major, &minor)
	return fts5 == 1 && (major > 3 || major == 3 && minor >= 43), nil
}

// searchIndexes returns the tables that have their search index.
func searchIndexes(ctx context.Context, q execer) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND name GLOB 'outpost_search_*' AND name NOT GLOB '*$*'`)
	if err != nil {
		return nil, fmt.Errorf("read search indexes: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		have[strings.TrimPrefix(name, searchIndexName(""))] = true
	}
	return have, rows.Err()
}

// hasSearchIndex reports whether table has its search index.
func hasSearchIndex(ctx context.Context, q execer, table string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, searchIndexName(table)).Scan(&n)
	return n > 0, err
}

// searchBuildChunk is how many rows of a table one transaction of a
// search index build reads: the app's own writes wait for the store's
// writer at most that long (about 0.1 s) while the index is built.
const searchBuildChunk = 20000

// searchBuild tunes a client's search index builds (tests).
type searchBuild struct {
	chunk int64              // rows per transaction; 0: searchBuildChunk
	hook  func(table string) // run before each transaction after the first
}

// buildSearchIndexes builds the search index of every table of a ready
// store that lacks one, at the end of a sync. The store is ready before:
// the app lists, filters and searches while the indexes are built
// (searches scan until their table's index is there, with the same
// results), so a first sync is ready to use without waiting for them.
func (c *Client) buildSearchIndexes(ctx context.Context, progress func(Progress)) error {
	// Every sync ends here: one read of the schema tells whether there is
	// anything to build.
	have, err := searchIndexes(ctx, c.db)
	if err != nil {
		return err
	}
	var todo []*localTable
	for _, name := range c.Tables() {
		if have[name] {
			continue
		}
		lt, err := c.table(name)
		if err != nil {
			return err
		}
		if len(searchColumnsOf(lt)) > 0 {
			todo = append(todo, lt)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if ready, err := getMeta(ctx, c.db, "ready"); err != nil || ready != "1" {
		return err
	}
	if ok, err := ftsAvailable(ctx, c.db); err != nil || !ok {
		return err
	}
	p := Progress{Phase: "search index", Tables: len(todo)}
	for _, lt := range todo {
		p.Table = lt.def.Name
		progress(p)
		if err := c.buildSearchIndex(ctx, lt, &p, progress); err != nil {
			return err
		}
		p.TablesDone++
	}
	p.Table = ""
	progress(p)
	return nil
}

// buildSearchIndex builds the search index of lt a chunk of rows per
// transaction, so that the app's writes go on meanwhile. The index is built
// under another name (outpost_search_T$build) while triggers note in
// outpost_search_T$pending the rowid of every row written since the build
// began: chunks skip those rows, and the last transaction re-indexes them
// from the table, replaces the triggers with the index's own and renames the
// index into place. A build cut short (the process ended) starts over at
// the next sync.
func (c *Client) buildSearchIndex(ctx context.Context, lt *localTable, p *Progress, progress func(Progress)) error {
	name := lt.def.Name
	q := sqlgen.SQLite.Quote
	t, pk := q(name), q(lt.pk())
	build, pend := searchBuildName(name), searchPendingName(name)
	list := strings.Join(quotedAll(searchColumnsOf(lt)), ", ")
	var hwm int64
	err := inTx(ctx, c.db, func(tx *sql.Tx) error {
		if err := dropSearchBuild(ctx, tx, name); err != nil {
			return err
		}
		stmts := append(searchTableSQL(q(build), list),
			`CREATE TABLE `+q(pend)+` (id INTEGER PRIMARY KEY)`,
			// INSERT OR REPLACE removes the row it replaces without a
			// delete trigger: note the replaced row's rowid before.
			`CREATE TRIGGER `+q(build+"_bi")+` BEFORE INSERT ON `+t+` BEGIN INSERT OR IGNORE INTO `+q(pend)+` (id) SELECT rowid FROM `+t+` WHERE `+pk+` = new.`+pk+`; END`,
			`CREATE TRIGGER `+q(build+"_ai")+` AFTER INSERT ON `+t+` BEGIN INSERT OR IGNORE INTO `+q(pend)+` (id) VALUES (new.rowid); END`,
			`CREATE TRIGGER `+q(build+"_au")+` AFTER UPDATE OF `+list+` ON `+t+` BEGIN INSERT OR IGNORE INTO `+q(pend)+` (id) VALUES (old.rowid), (new.rowid); END`,
			`CREATE TRIGGER `+q(build+"_ad")+` AFTER DELETE ON `+t+` BEGIN INSERT OR IGNORE INTO `+q(pend)+` (id) VALUES (old.rowid); END`,
		)
		if err := execAll(ctx, tx, stmts); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM `+t).Scan(&hwm)
	})
	if err != nil {
		return fmt.Errorf("search index %s: %w", name, err)
	}
	p.Rows, p.TotalRows = 0, hwm
	chunk := c.searchBuild.chunk
	if chunk <= 0 {
		chunk = searchBuildChunk
	}
	hook := c.searchBuild.hook
	if hook == nil {
		hook = func(string) {}
	}
	for lo := int64(0); lo < hwm; lo += chunk {
		hook(name)
		var n int64
		err := inTx(ctx, c.db, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `INSERT INTO `+q(build)+` (rowid, `+list+`) SELECT rowid, `+list+` FROM `+t+
				` WHERE rowid > ? AND rowid <= ? AND rowid NOT IN (SELECT id FROM `+q(pend)+`)`, lo, lo+chunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return fmt.Errorf("search index %s: %w", name, err)
		}
		p.Rows += n
		progress(*p)
	}
	hook(name)
	err = inTx(ctx, c.db, func(tx *sql.Tx) error {
		stmts := []string{
			`DELETE FROM ` + q(build) + ` WHERE rowid IN (SELECT id FROM ` + q(pend) + `)`,
			`INSERT INTO ` + q(build) + ` (rowid, ` + list + `) SELECT rowid, ` + list + ` FROM ` + t + ` WHERE rowid IN (SELECT id FROM ` + q(pend) + `)`,
		}
		stmts = append(stmts, dropBuildTriggersSQL(name)...)
		stmts = append(stmts, `DROP TABLE `+q(pend), `ALTER TABLE `+q(build)+` RENAME TO `+q(searchIndexName(name)))
		return execAll(ctx, tx, append(stmts, searchTriggersSQL(lt)...))
	})
	if err != nil {
		return fmt.Errorf("search index %s: %w", name, err)
	}
	return nil
}

// searchTableSQL creates the FTS5 table fts (quoted) over the quoted
// column list.
func searchTableSQL(fts, list string) []string {
	return []string{
		`CREATE VIRTUAL TABLE ` + fts + ` USING fts5(` + list + `, content='', contentless_delete=1, tokenize='trigram case_sensitive 1')`,
		`INSERT INTO ` + fts + ` (` + fts + `, rank) VALUES ('hashsize', ` + strconv.Itoa(searchHashSize) + `)`,
	}
}

// searchTriggersSQL creates the triggers that keep the search index of lt
// in step with every write of its table.
func searchTriggersSQL(lt *localTable) []string {
	q := sqlgen.SQLite.Quote
	name := lt.def.Name
	t, fts, pk := q(name), q(searchIndexName(name)), q(lt.pk())
	cols := searchColumnsOf(lt)
	var news []string
	for _, c := range cols {
		news = append(news, "new."+q(c))
	}
	list := strings.Join(quotedAll(cols), ", ")
	insertNew := `INSERT INTO ` + fts + ` (rowid, ` + list + `) VALUES (new.rowid, ` + strings.Join(news, ", ") + `);`
	return []string{
		// INSERT OR REPLACE removes the row it replaces without a delete
		// trigger, so the insert trigger drops that row's entry first.
		`CREATE TRIGGER ` + q(searchIndexName(name)+"_bi") + ` BEFORE INSERT ON ` + t + ` BEGIN DELETE FROM ` + fts +
			` WHERE rowid = (SELECT rowid FROM ` + t + ` WHERE ` + pk + ` = new.` + pk + `); END`,
		`CREATE TRIGGER ` + q(searchIndexName(name)+"_ai") + ` AFTER INSERT ON ` + t + ` BEGIN ` + insertNew + ` END`,
		`CREATE TRIGGER ` + q(searchIndexName(name)+"_ad") + ` AFTER DELETE ON ` + t + ` BEGIN DELETE FROM ` + fts + ` WHERE rowid = old.rowid; END`,
		`CREATE TRIGGER ` + q(searchIndexName(name)+"_au") + ` AFTER UPDATE OF ` + list + ` ON ` + t + ` BEGIN DELETE FROM ` + fts +
			` WHERE rowid = old.rowid; ` + insertNew + ` END`,
	}
}

// dropBuildTriggersSQL drops the triggers of a search index build of table.
func dropBuildTriggersSQL(table string) []string {
	var out []string
	for _, s := range []string{"_bi", "_ai", "_au", "_ad"} {
		out = append(out, `DROP TRIGGER IF EXISTS `+sqlgen.SQLite.Quote(searchBuildName(table)+s))
	}
	return out
}

// dropSearchBuild drops what a search index build of table left behind.
func dropSearchBuild(ctx context.Context, tx *sql.Tx, table string) error {
	q := sqlgen.SQLite.Quote
	stmts := append(dropBuildTriggersSQL(table),
		`DROP TABLE IF EXISTS `+q(searchPendingName(table)),
		`DROP TABLE IF EXISTS `+q(searchBuildName(table)))
	return execAll(ctx, tx, stmts)
}

func execAll(ctx context.Context, tx *sql.Tx, stmts []string) error {
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func quotedAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = sqlgen.SQLite.Quote(n)
	}
	return out
}

// dropSearchIndex drops the search index of table (its triggers go with
// the table) and what a build of it left behind.
func dropSearchIndex(ctx context.Context, tx *sql.Tx, table string) error {
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+sqlgen.SQLite.Quote(searchIndexName(table))); err != nil {
		return fmt.Errorf("drop search index %s: %w", table, err)
	}
	if err := dropSearchBuild(ctx, tx, table); err != nil {
		return fmt.Errorf("drop search index %s: %w", table, err)
	}
	return nil
}

// searchFilter checks s against lt and returns its contains filter text
// (empty for no search).
func searchFilter(lt *localTable, s Search) (string, error) {
	if s.Text == "" {
		return "", nil
	}
	if len(s.Columns) == 0 {
		return "", outpost.Invalidf("search: name the columns to search").WithTarget("search")
	}
	lit := "'" + strings.ReplaceAll(s.Text, "'", "''") + "'"
	var or []string
	for _, c := range s.Columns {
		if t, ok := lt.types[c]; !ok || (t != schema.Text && t != schema.Memo) {
			return "", outpost.Invalidf("search: %q is not a text column of table %q (text and memo columns can be searched)", c, lt.def.Name).WithTarget("search")
		}
		or = append(or, "contains("+c+", "+lit+")")
	}
	return "(" + strings.Join(or, " or ") + ")", nil
}

// searchMatch returns the FTS5 query that finds the candidates of s, or
// "" when the index cannot answer it (no index, or a text shorter than a
// trigram) and the contains test scans.
func (c *Client) searchMatch(ctx context.Context, lt *localTable, s Search) (string, error) {
	if utf8.RuneCountInString(s.Text) < minIndexedSearch {
		return "", nil
	}
	if ok, err := hasSearchIndex(ctx, c.db, lt.def.Name); err != nil || !ok {
		return "", err
	}
	cols := make([]string, len(s.Columns))
	for i, col := range s.Columns {
		cols[i] = `"` + col + `"`
	}
	return "{" + strings.Join(cols, " ") + `} : "` + strings.ReplaceAll(s.Text, `"`, `""`) + `"`, nil
}

// whereSearch adds the WHERE clause of a filter and a search: the filter
// and the contains tests, narrowed to the index's candidates when it has
// them. joined says that the query reads the index as s0, joined to t0
// by rowid, so the candidates are its MATCH.
func (c *Client) whereSearch(ctx context.Context, b *sqlgen.Builder, lt *localTable, filterText string, s Search, joined bool) error {
	sf, err := searchFilter(lt, s)
	if err != nil {
		return err
	}
	switch {
	case sf != "" && filterText != "":
		filterText = "(" + filterText + ") and " + sf
	case sf != "":
		filterText = sf
	}
	if err := c.where(b, lt.def.Name, filterText); err != nil {
		return err
	}
	if sf == "" {
		return nil
	}
	match, err := c.searchMatch(ctx, lt, s)
	if err != nil || match == "" {
		return err
	}
	if joined {
		b.SQL(" AND s0.").Ident(searchIndexName(lt.def.Name)).SQL(" MATCH ").Arg(match)
		return nil
	}
	b.SQL(" AND t0.rowid IN (SELECT rowid FROM ").Ident(searchIndexName(lt.def.Name)).SQL(" WHERE ").Ident(searchIndexName(lt.def.Name)).SQL(" MATCH ").Arg(match).SQL(")")
	return nil
}
