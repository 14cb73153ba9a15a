import { useEffect, useState } from "preact/hooks";
import { server, ServerError, type Relationship, type Table, type S } from "../shared/server";
import { go } from "./route";

const ownerships = ["user", "organization", "business", "none"] as const;
const ownershipLabels: Record<string, string> = {
  user: "User or team",
  organization: "Organization",
  business: "Business unit",
  none: "None",
};

/** TablesPage lists the tables with ownership and offline flag, and creates custom tables. */
export function TablesPage() {
  const [tables, setTables] = useState<Table[] | null>(null);
  const [error, setError] = useState("");
  const [name, setName] = useState("");
  const [display, setDisplay] = useState("");
  const [ownership, setOwnership] = useState<(typeof ownerships)[number]>("user");
  const [createError, setCreateError] = useState<ServerError | null>(null);
  const load = () => server.tables().then(setTables, (e: ServerError) => setError(e.message));
  useEffect(() => void load(), []);

  const create = async (e: Event) => {
    e.preventDefault();
    setCreateError(null);
    try {
      const t = await server.createTable({ name, displayName: display || undefined, ownership, primaryName: "name" });
      go("tables", t.name);
    } catch (err) {
      setCreateError(err as ServerError);
    }
  };

  return (
    <main class="page">
      <h1>Tables</h1>
      {error && <p class="banner error" role="alert">{error}</p>}
      {tables && (
        <table class="rows">
          <thead>
            <tr><th scope="col">Table</th><th scope="col">Ownership</th><th scope="col">Can be taken offline</th><th scope="col">Columns</th></tr>
          </thead>
          <tbody>
            {tables.filter((t) => !t.intersect).map((t) => (
              <tr>
                <td><a href={"#/tables/" + encodeURIComponent(t.name)}>{t.displayName || t.name}</a> <span class="muted">{t.name}</span></td>
                <td data-label="Ownership">{ownershipLabels[t.ownership]}</td>
                <td data-label="Offline">{t.offline ? "Yes" : t.neverOffline ? "Never" : "No"}</td>
                <td data-label="Columns">{t.columns.filter((c) => !c.system).length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>New table</h2>
      <form class="card-form" onSubmit={create} aria-label="New table">
        <label for="nt-name">Name <small>2–50 lowercase letters, digits and underscores; the primary name column is "name".</small></label>
        <input id="nt-name" name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)}
          aria-invalid={createError?.target === "name" ? "true" : undefined} />
        <label for="nt-display">Display name</label>
        <input id="nt-display" name="displayName" value={display} onInput={(e) => setDisplay(e.currentTarget.value)} />
        <label for="nt-ownership">Ownership</label>
        <select id="nt-ownership" name="ownership" value={ownership} onChange={(e) => setOwnership(e.currentTarget.value as typeof ownership)}>
          {ownerships.map((o) => <option value={o}>{ownershipLabels[o]}</option>)}
        </select>
        {createError && <p class="field-error" role="alert">{createError.message}</p>}
        <div class="actions"><button type="submit" class="primary">Create table</button></div>
      </form>
    </main>
  );
}

const columnTypes = ["text", "memo", "integer", "decimal", "money", "boolean", "datetime", "choice", "lookup", "file", "image"] as const;

/** TablePage shows one table: Can be taken offline, columns, relationships and its rows. */
export function TablePage({ name }: { name: string }) {
  const [table, setTable] = useState<Table | null>(null);
  const [rels, setRels] = useState<Relationship[]>([]);
  const [error, setError] = useState("");
  const [confirming, setConfirming] = useState(false);
  useEffect(() => void server.table(name).then(setTable, (e: ServerError) => setError(e.message)), [name]);
  // A new lookup column is a new relationship: reload them with the columns.
  const columns = table?.columns.length ?? 0;
  useEffect(() => void server.relationships(name).then(setRels, () => setRels([])), [name, columns]);
  if (error) return <main class="page"><p class="banner error" role="alert">{error}</p></main>;
  if (!table) return <main class="page" aria-busy="true"><p>Loading…</p></main>;

  const takeOffline = async () => {
    try {
      setTable(await server.patchTable(name, { offline: true }));
      setConfirming(false);
    } catch (e) {
      setError((e as ServerError).message);
    }
  };

  return (
    <main class="page">
      <p><a href="#/tables">Tables</a></p>
      <h1>{table.displayName || table.name} <span class="muted">{table.name}</span></h1>
      <section class="panel" aria-labelledby="offline-h">
        <h2 id="offline-h">Can be taken offline</h2>
        {table.offline ? (
          <p><strong>On.</strong> Offline profiles can include this table. It cannot be turned off.</p>
        ) : table.neverOffline ? (
          <p><label><input type="checkbox" disabled /> Can be taken offline</label><br />
            <span class="muted">This table never goes to devices: it holds Outpost's own configuration.</span></p>
        ) : confirming ? (
          <div class="banner warn" role="alertdialog" aria-labelledby="offline-warn">
            <p id="offline-warn">Once <strong>Can be taken offline</strong> is on, it cannot be turned off; it also turns on change tracking, which cannot be turned off either.</p>
            <div class="actions">
              <button class="primary" onClick={takeOffline}>Turn on</button>
              <button onClick={() => setConfirming(false)}>Cancel</button>
            </div>
          </div>
        ) : (
          <p><label><input type="checkbox" name="offline" checked={false} onChange={() => setConfirming(true)} /> Can be taken offline</label></p>
        )}
      </section>
      <ColumnsPanel table={table} onChange={setTable} />
      <h2>Relationships</h2>
      {rels.length === 0 ? <p class="muted">None.</p> : (
        <table class="rows">
          <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Related table</th><th scope="col">Column</th></tr></thead>
          <tbody>{rels.map((r) => <tr><td>{r.name}</td><td data-label="Kind">{r.kind}</td><td data-label="Related">{r.related}</td><td data-label="Column">{r.column ?? r.intersect}</td></tr>)}</tbody>
        </table>
      )}
      <DataBrowser table={table} />
    </main>
  );
}

function ColumnsPanel({ table, onChange }: { table: Table; onChange: (t: Table) => void }) {
  const [name, setName] = useState("");
  const [type, setType] = useState<(typeof columnTypes)[number]>("text");
  const [target, setTarget] = useState("");
  const [options, setOptions] = useState("");
  const [err, setErr] = useState<ServerError | null>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const col: S["Column"] = { name, type };
    if (type === "lookup") col.target = target;
    if (type === "choice")
      col.options = options.split(",").map((l, i) => ({ value: i + 1, label: l.trim() })).filter((o) => o.label);
    try {
      onChange(await server.addColumn(table.name, col));
      setName("");
    } catch (x) {
      setErr(x as ServerError);
    }
  };
  return (
    <>
      <h2>Columns</h2>
      <table class="rows">
        <thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Details</th></tr></thead>
        <tbody>
          {table.columns.filter((c) => !c.system).map((c) => (
            <tr><td>{c.name}{c.required && <span class="required" title="required"> *</span>}</td><td data-label="Type">{c.type}</td>
              <td data-label="Details">{c.target ? "→ " + c.target : c.options?.map((o) => o.label).join(", ") ?? (c.maxLength ? `up to ${c.maxLength}` : "")}</td></tr>
          ))}
        </tbody>
      </table>
      <form class="inline-form" onSubmit={add} aria-label="Add column">
        <div><label for="nc-name">New column</label>
          <input id="nc-name" name="column" required value={name} onInput={(e) => setName(e.currentTarget.value)} /></div>
        <div><label for="nc-type">Type</label>
          <select id="nc-type" value={type} onChange={(e) => setType(e.currentTarget.value as typeof type)}>
            {columnTypes.map((t) => <option>{t}</option>)}
          </select></div>
        {type === "lookup" && <div><label for="nc-target">Target table</label>
          <input id="nc-target" required value={target} onInput={(e) => setTarget(e.currentTarget.value)} /></div>}
        {type === "choice" && <div><label for="nc-options">Options <small>comma separated</small></label>
          <input id="nc-options" required value={options} onInput={(e) => setOptions(e.currentTarget.value)} /></div>}
        <div><button type="submit">Add column</button></div>
      </form>
      {err && <p class="field-error" role="alert">{err.message}</p>}
    </>
  );
}

function DataBrowser({ table }: { table: Table }) {
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState<S["RowPage"] | null>(null);
  const [err, setErr] = useState<ServerError | null>(null);
  const load = (f: string) =>
    server.rows(table.name, f).then(
      (p) => {
        setPage(p);
        setErr(null);
      },
      (e: ServerError) => setErr(e),
    );
  useEffect(() => void load(""), [table.name]);
  const cols = [table.primaryName, ...table.columns.filter((c) => !c.system && c.name !== table.primaryName && c.type !== "file" && c.type !== "image").map((c) => c.name)].slice(0, 5);
  return (
    <section aria-labelledby="data-h">
      <h2 id="data-h">Data</h2>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); load(filter); }} aria-label="Filter rows">
        <div class="grow"><label for="data-filter">$filter</label>
          <input id="data-filter" name="filter" value={filter} placeholder="statecode eq 0" onInput={(e) => setFilter(e.currentTarget.value)}
            aria-invalid={err ? "true" : undefined} aria-describedby={err ? "data-filter-error" : undefined} /></div>
        <div><button type="submit">Apply</button></div>
      </form>
      {err && <p id="data-filter-error" class="field-error" role="alert">{err.message}</p>}
      {page && (
        <>
          <p class="muted">{page["@odata.count"] ?? page.value.length} rows{page.value.length < (page["@odata.count"] ?? 0) ? `, the first ${page.value.length} shown` : ""}</p>
          <table class="rows data">
            <thead><tr>{cols.map((c) => <th scope="col">{c}</th>)}</tr></thead>
            <tbody>{page.value.map((r) => <tr>{cols.map((c) => <td data-label={c}>{format(r[c])}</td>)}</tr>)}</tbody>
          </table>
        </>
      )}
    </section>
  );
}

function format(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
