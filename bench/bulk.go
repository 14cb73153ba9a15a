package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/outposthq/outpost/store"
)

const (
	bulkRows    = 200000 // the peer workload: 100,000 accounts and 100,000 contacts
	bulkBatch   = 1000   // rows per CreateMultiple
	bulkClients = 4
)

// bulkLoad loads n rows (half accounts, half contacts) through
// CreateMultiple over HTTP with bulkClients clients, against the baseline
// of the same rows as plain multi-row INSERTs into a table of the same
// columns, in one transaction.
func bulkLoad(ctx context.Context, r *recorder, e *env, n int) error {
	accounts, contacts := bulkRowsOf(n/2, "account"), bulkRowsOf(n-n/2, "contact")
	type job struct {
		table string
		rows  []map[string]any
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range bulkClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := createMultiple(ctx, e, j.table, j.rows); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for _, set := range []struct {
		table string
		rows  []map[string]any
	}{{"account", accounts}, {"contact", contacts}} {
		for i := 0; i < len(set.rows); i += bulkBatch {
			jobs <- job{set.table, set.rows[i:min(i+bulkBatch, len(set.rows))]}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	rate := float64(n) / time.Since(start).Seconds()
	base, err := rawInserts(ctx, e.p.DB(), accounts, contacts)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	r.add("bulk", fmt.Sprintf("%d rows by CreateMultiple (%d a request, %d clients)", n, bulkBatch, bulkClients), rate, "rows/s", base, "plain multi-row INSERTs, one tx", ">=", 20000)
	return nil
}

// bulkRowsOf makes n rows of the peer workload's table.
func bulkRowsOf(n int, table string) []map[string]any {
	rows := make([]map[string]any, n)
	for i := range rows {
		if table == "account" {
			rows[i] = map[string]any{"name": fmt.Sprintf("Bulk account %d", i), "telephone1": fmt.Sprintf("555-%04d", i%10000), "revenue": i % 100000}
		} else {
			rows[i] = map[string]any{"firstname": "Bulk", "lastname": fmt.Sprintf("Contact %d", i), "emailaddress1": fmt.Sprintf("c%d@example.com", i)}
		}
	}
	return rows
}

func createMultiple(ctx context.Context, e *env, table string, rows []map[string]any) error {
	body, err := json.Marshal(map[string]any{"Targets": rows})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", e.url+"/api/data/"+table+"/Microsoft.Dynamics.CRM.CreateMultiple", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return fmt.Errorf("CreateMultiple %s: %d %s", table, res.StatusCode, b)
	}
	return nil
}

// rawInserts writes the rows into scratch tables of the same columns (the
// key and stamps included) with multi-row INSERTs of bulkBatch rows, in
// one transaction, and returns rows/s.
func rawInserts(ctx context.Context, db *store.DB, accounts, contacts []map[string]any) (float64, error) {
	d := db.Dialect
	sets := []struct {
		table string
		cols  []string
		rows  []map[string]any
	}{
		{"bench_bulk_account", []string{"name", "telephone1", "revenue"}, accounts},
		{"bench_bulk_contact", []string{"firstname", "lastname", "emailaddress1"}, contacts},
	}
	stamps := []string{"id", "ownerid", "owningbusinessunit", "createdon", "modifiedon", "versionnumber"}
	for _, s := range sets {
		ddl := "CREATE TABLE " + s.table + " (id TEXT PRIMARY KEY, ownerid TEXT, owningbusinessunit TEXT, createdon TEXT, modifiedon TEXT, versionnumber BIGINT"
		for _, c := range s.cols {
			ddl += ", " + c + " TEXT"
		}
		if _, err := db.Write.ExecContext(ctx, ddl+")"); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	n := 0
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UTC().Format(time.RFC3339Nano)
		for _, s := range sets {
			all := append(append([]string{}, stamps...), s.cols...)
			for i := 0; i < len(s.rows); i += bulkBatch {
				part := s.rows[i:min(i+bulkBatch, len(s.rows))]
				var q strings.Builder
				q.WriteString("INSERT INTO " + s.table + " (" + strings.Join(all, ", ") + ") VALUES ")
				args := make([]any, 0, len(part)*len(all))
				for k, row := range part {
					if k > 0 {
						q.WriteString(", ")
					}
					q.WriteString("(")
					for c := range all {
						if c > 0 {
							q.WriteString(", ")
						}
						q.WriteString(d.Placeholder(len(args) + 1))
						switch {
						case c == 0:
							args = append(args, fmt.Sprintf("%s-%d", s.table, i+k))
						case c < 3:
							args = append(args, "00000000-0000-0000-0000-000000000000")
						case c < 5:
							args = append(args, now)
						case c == 5:
							args = append(args, int64(1))
						default:
							args = append(args, fmt.Sprint(row[all[c]]))
						}
					}
					q.WriteString(")")
				}
				if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
					return err
				}
				n += len(part)
			}
		}
		return nil
	})
	return float64(n) / time.Since(start).Seconds(), err
}
