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
  const [editing, setEditing] = useState("");
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
        <thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Details</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          {table.columns.filter((c) => !c.system).map((c) => (
            <tr data-column={c.name}><td>{c.displayName && c.displayName !== c.name ? <>{c.displayName} <span class="muted">{c.name}</span></> : c.name}{c.required && <span class="required" title="required"> *</span>}</td><td data-label="Type">{c.type}</td>
              <td data-label="Details">{c.target ? "→ " + c.target : c.options?.map((o) => o.label).join(", ") ?? (c.maxLength ? `up to ${c.maxLength}` : "")}</td>
              <td>{editing === c.name ? <EditColumn table={table} column={c} onDone={(t) => { if (t) onChange(t); setEditing(""); }} />
                : <button class="edit-column" aria-label={"Edit " + c.name} onClick={() => setEditing(c.name)}>Edit</button>}</td></tr>
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

/** EditColumn changes what the API lets change on an existing column:
 * display name, required, maximum length (text, memo) and a choice's
 * options (relabel, add; none removed). Name, type and target are fixed. */
function EditColumn({ table, column, onDone }: { table: Table; column: S["Column"]; onDone: (t?: Table) => void }) {
  const [display, setDisplay] = useState(column.displayName ?? "");
  const [required, setRequired] = useState(!!column.required);
  const [maxLength, setMaxLength] = useState(column.maxLength ? String(column.maxLength) : "");
  const [labels, setLabels] = useState((column.options ?? []).map((o) => o.label));
  const [added, setAdded] = useState("");
  const [err, setErr] = useState<ServerError | null>(null);
  const hasLength = column.type === "text" || column.type === "memo";
  const id = (f: string) => `ec-${column.name}-${f}`;
  const fieldError = (f: string) =>
    err?.target === f ? <p id={id(f) + "-error"} class="field-error" role="alert">{err.message}</p> : null;
  const invalid = (f: string) => (err?.target === f ? { "aria-invalid": "true" as const, "aria-describedby": id(f) + "-error" } : {});
  const save = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const patch: S["ColumnPatch"] = {};
    if (display !== (column.displayName ?? "")) patch.displayName = display;
    if (required !== !!column.required) patch.required = required;
    if (hasLength && maxLength && Number(maxLength) !== (column.maxLength ?? 0)) patch.maxLength = Number(maxLength);
    if (column.type === "choice") {
      const old = column.options ?? [];
      let next = Math.max(0, ...old.map((o) => o.value)) + 1;
      const extra = added.split(",").map((l) => l.trim()).filter(Boolean).map((label) => ({ value: next++, label }));
      const relabelled = old.map((o, i) => ({ value: o.value, label: labels[i] ?? o.label }));
      if (extra.length || relabelled.some((o, i) => o.label !== old[i].label)) patch.options = [...relabelled, ...extra];
    }
    if (Object.keys(patch).length === 0) return onDone();
    try {
      onDone(await server.patchColumn(table.name, column.name, patch));
    } catch (x) {
      setErr(x as ServerError);
    }
  };
  const known = ["displayName", "required", "maxLength", "options"];
  return (
    <form class="card-form edit-column-form" onSubmit={save} aria-label={"Edit column " + column.name}>
      <label for={id("display")}>Display name</label>
      <input id={id("display")} name="displayName" value={display} onInput={(e) => setDisplay(e.currentTarget.value)} {...invalid("displayName")} />
      {fieldError("displayName")}
      <label class="choice"><input type="checkbox" name="required" checked={required} onChange={(e) => setRequired(e.currentTarget.checked)} {...invalid("required")} /> Required</label>
      {fieldError("required")}
      {hasLength && <>
        <label for={id("max")}>Maximum length</label>
        <input id={id("max")} name="maxLength" type="number" min={1} value={maxLength} onInput={(e) => setMaxLength(e.currentTarget.value)} {...invalid("maxLength")} />
        {fieldError("maxLength")}
      </>}
      {column.type === "choice" && <fieldset {...invalid("options")}>
        <legend>Options <small>relabel or add; options cannot be removed</small></legend>
        {(column.options ?? []).map((o, i) => (
          <div><label for={id("opt" + o.value)}>{o.value}</label>
            <input id={id("opt" + o.value)} name={"option-" + o.value} value={labels[i]} onInput={(e) => { const v = e.currentTarget.value; setLabels((l) => l.map((x, j) => (j === i ? v : x))); }} /></div>
        ))}
        <label for={id("add")}>New options <small>comma separated</small></label>
        <input id={id("add")} name="newOptions" value={added} onInput={(e) => setAdded(e.currentTarget.value)} />
      </fieldset>}
      {fieldError("options")}
      {err && !known.includes(err.target) && <p class="field-error" role="alert">{err.message}</p>}
      <div class="actions"><button type="submit" class="primary">Save column</button><button type="button" onClick={() => onDone()}>Cancel</button></div>
    </form>
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
