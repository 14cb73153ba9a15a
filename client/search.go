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
// results. It is built with the other indexes after the first sync's bulk
// load. A build of SQLite without FTS5 (the cgo driver without its
// sqlite_fts5 tag) has no index and searches by scanning, with the same
// results.

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

// hasSearchIndex reports whether table has its search index.
func hasSearchIndex(ctx context.Context, q execer, table string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, searchIndexName(table)).Scan(&n)
	return n > 0, err
}

// createSearchIndex builds the search index of lt and the triggers that
// keep it, unless it exists or SQLite has no FTS5.
func createSearchIndex(ctx context.Context, tx *sql.Tx, lt *localTable) error {
	cols := searchColumnsOf(lt)
	if len(cols) == 0 {
		return nil
	}
	if ok, err := ftsAvailable(ctx, tx); err != nil || !ok {
		return err
	}
	if ok, err := hasSearchIndex(ctx, tx, lt.def.Name); err != nil || ok {
		return err
	}
	q := sqlgen.SQLite.Quote
	t, fts, pk := q(lt.def.Name), q(searchIndexName(lt.def.Name)), q(lt.pk())
	var quoted, news, olds []string
	for _, c := range cols {
		quoted = append(quoted, q(c))
		news = append(news, "new."+q(c))
		olds = append(olds, q(c))
	}
	list := strings.Join(quoted, ", ")
	insertNew := `INSERT INTO ` + fts + ` (rowid, ` + list + `) VALUES (new.rowid, ` + strings.Join(news, ", ") + `);`
	stmts := []string{
		`CREATE VIRTUAL TABLE ` + fts + ` USING fts5(` + list + `, content='', contentless_delete=1, tokenize='trigram case_sensitive 1')`,
		`INSERT INTO ` + fts + ` (` + fts + `, rank) VALUES ('hashsize', ` + strconv.Itoa(searchHashSize) + `)`,
		`INSERT INTO ` + fts + ` (rowid, ` + list + `) SELECT rowid, ` + strings.Join(olds, ", ") + ` FROM ` + t,
		// INSERT OR REPLACE removes the row it replaces without a delete
		// trigger, so the insert trigger drops that row's entry first.
		`CREATE TRIGGER ` + q(searchIndexName(lt.def.Name)+"_bi") + ` BEFORE INSERT ON ` + t + ` BEGIN DELETE FROM ` + fts +
			` WHERE rowid = (SELECT rowid FROM ` + t + ` WHERE ` + pk + ` = new.` + pk + `); END`,
		`CREATE TRIGGER ` + q(searchIndexName(lt.def.Name)+"_ai") + ` AFTER INSERT ON ` + t + ` BEGIN ` + insertNew + ` END`,
		`CREATE TRIGGER ` + q(searchIndexName(lt.def.Name)+"_ad") + ` AFTER DELETE ON ` + t + ` BEGIN DELETE FROM ` + fts + ` WHERE rowid = old.rowid; END`,
		`CREATE TRIGGER ` + q(searchIndexName(lt.def.Name)+"_au") + ` AFTER UPDATE OF ` + list + ` ON ` + t + ` BEGIN DELETE FROM ` + fts +
			` WHERE rowid = old.rowid; ` + insertNew + ` END`,
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("search index %s: %w", lt.def.Name, err)
		}
	}
	return nil
}

// dropSearchIndex drops the search index of table (its triggers go with
// the table).
func dropSearchIndex(ctx context.Context, tx *sql.Tx, table string) error {
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+sqlgen.SQLite.Quote(searchIndexName(table))); err != nil {
		return fmt.Errorf("drop search index %s: %w", table, err)
	}
	return nil
}

// ensureSearchIndexes builds the search indexes a ready store made before
// they existed lacks.
func (c *Client) ensureSearchIndexes(ctx context.Context) error {
	ready, err := getMeta(ctx, c.db, "ready")
	if err != nil || ready != "1" {
		return err
	}
	return inTx(ctx, c.db, func(tx *sql.Tx) error {
		for _, name := range c.Tables() {
			lt, err := c.table(name)
			if err != nil {
				return err
			}
			if err := createSearchIndex(ctx, tx, lt); err != nil {
				return err
			}
		}
		return nil
	})
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
