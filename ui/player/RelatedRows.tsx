import { useEffect, useState } from "preact/hooks";
import { api, type AppDefinition, type Column, type RowPage, type TableDef } from "../shared/api";
import { label, systemColumns } from "../shared/format";

const pageSize = 50;

/** relationsTo lists the 1:N relationships of the profile onto table: each
 * table on the device with a lookup column that points to it. */
export function relationsTo(app: AppDefinition, table: string): { def: TableDef; col: Column }[] {
  const out: { def: TableDef; col: Column }[] = [];
  for (const def of app.tables) for (const col of def.columns) if (col.type === "lookup" && col.target === table) out.push({ def, col });
  return out;
}

/** RelatedRows is a form's sub-list: the rows of def whose lookup col
 * points to the form's row, each opening its own form. */
export function RelatedRows({ def, col, id, many }: { def: TableDef; col: Column; id: string; many: boolean }) {
  const [page, setPage] = useState<RowPage | null>(null);
  const [error, setError] = useState("");
  // The row's name: its "name" column, else its first text column.
  const nameCol = (def.columns.find((c) => c.name === "name") ?? def.columns.find((c) => c.type === "text" && !systemColumns.has(c.name)))?.name;
  useEffect(() => {
    setPage(null);
    api.rows(def.name, { filter: `${col.name} eq '${id}'`, orderby: nameCol, top: pageSize }).then(setPage, (e: Error) => setError(e.message));
  }, [def.name, col.name, id]);
  const title = `${label(def.name)}s` + (many ? ` (${label(col.name)})` : "");
  return (
    <section class="related" aria-label={title}>
      <h2>{title}</h2>
      {error && <p class="banner error">{error}</p>}
      {!page && !error && <p aria-busy="true">Loading…</p>}
      {page && page.total === 0 && <p class="muted">None on this device.</p>}
      {page && page.total > 0 && (
        <ul class="related-rows">
          {page.rows.map((r) => {
            const rid = String(r[def.primaryKey]);
            return (
              <li>
                <a href={`#/form/${encodeURIComponent(def.name)}/${encodeURIComponent(rid)}`}>{String((nameCol && r[nameCol]) || rid)}</a>
              </li>
            );
          })}
        </ul>
      )}
      {page && page.total > page.rows.length && (
        <p class="muted">
          The first {page.rows.length} of {page.total}.
        </p>
      )}
    </section>
  );
}
