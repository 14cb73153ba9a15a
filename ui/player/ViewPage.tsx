import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type AppDefinition, type RowPage, type View } from "../shared/api";
import { formatValue, label } from "../shared/format";

const pageSize = 50;

/** ViewPage lists a view's rows from the local store. */
export function ViewPage({ app, view }: { app: AppDefinition; view: View }) {
  const table = app.tables.find((t) => t.name === view.table)!;
  const cols = view.columns.length > 0 ? view.columns : table.columns.filter((c) => c.name === "name").map((c) => c.name);
  const typeOf = (c: string) => table.columns.find((x) => x.name === c)?.type ?? "text";
  const show = (c: string, v: unknown, names?: Record<string, string>) => {
    const col = table.columns.find((x) => x.name === c);
    const opt = col?.type === "choice" ? col.options.find((o) => o.value === v) : undefined;
    return opt ? opt.label : formatValue(typeOf(c), v, names);
  };
  const [search, setSearch] = useState("");
  const [order, setOrder] = useState(view.orderBy || cols[0] || "");
  const [skip, setSkip] = useState(0);
  const [page, setPage] = useState<RowPage | null>(null);
  const [error, setError] = useState("");
  const seq = useRef(0);

  useEffect(() => {
    const n = ++seq.current;
    const t = setTimeout(
      () => {
        api.rows(view.table, { view: view.name, search, orderby: order, skip, top: pageSize }).then(
          (p) => n === seq.current && (setPage(p), setError("")),
          (e: ApiError) => n === seq.current && setError(e.message),
        );
      },
      search ? 150 : 0,
    );
    return () => clearTimeout(t);
  }, [view.name, search, order, skip]);

  const [orderCol, orderDir] = order.split(" ");
  function sortBy(c: string) {
    setOrder(orderCol === c && orderDir !== "desc" ? `${c} desc` : c);
    setSkip(0);
  }
  const total = page?.total ?? 0;
  // A search matching many rows counts up to a cap: "of 5,000+" until
  // the pages pass it.
  const more = page?.more ?? false;
  // The pager follows the page on screen, not the one being fetched.
  const at = page?.skip ?? 0;
  return (
    <main class="page view-page">
      <div class="view-head">
        <h1>{view.name}</h1>
        <a class="button primary" href={`#/form/${encodeURIComponent(view.table)}/new`}>
          New
        </a>
      </div>
      <input
        class="search"
        type="search"
        placeholder="Search"
        aria-label={`Search ${view.name}`}
        value={search}
        onInput={(e) => {
          setSearch(e.currentTarget.value);
          setSkip(0);
        }}
      />
      {error && <p class="banner error" role="alert">{error}</p>}
      <table class="rows">
        <thead>
          <tr>
            {cols.map((c) => (
              <th aria-sort={orderCol === c ? (orderDir === "desc" ? "descending" : "ascending") : "none"}>
                <button type="button" onClick={() => sortBy(c)}>
                  {label(c)}
                  {orderCol === c ? (orderDir === "desc" ? " ▼" : " ▲") : ""}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {page?.rows.map((r) => {
            const id = String(r[table.primaryKey]);
            return (
              <tr>
                {cols.map((c, i) => (
                  <td data-label={label(c)}>
                    {i === 0 ? (
                      <a href={`#/form/${encodeURIComponent(view.table)}/${encodeURIComponent(id)}`}>{show(c, r[c], page.names) || "(no name)"}</a>
                    ) : (
                      show(c, r[c], page.names)
                    )}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      {page && page.rows.length === 0 && <p class="muted">No rows{search ? ` match “${search}”` : ""}.</p>}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={at === 0} onClick={() => setSkip(Math.max(0, at - pageSize))}>
          Previous
        </button>
        <span aria-live="polite">{total > 0 ? `${at + 1}–${Math.min(at + pageSize, total)} of ${total.toLocaleString()}${more ? "+" : ""}` : ""}</span>
        <button type="button" disabled={!more && at + pageSize >= total} onClick={() => setSkip(at + pageSize)}>
          Next
        </button>
      </nav>
    </main>
  );
}
