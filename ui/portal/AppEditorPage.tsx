import { useEffect, useRef, useState } from "preact/hooks";
import { server, ServerError, type App, type Profile, type Table } from "../shared/server";
import { formatBytes } from "../shared/format";
import { appsApi, type CanvasBundle, type Definition, type Form, type View } from "./appsApi";
import { AppCard, kindLabels } from "./AppsPage";
import { ViewFilterField } from "./ViewFilterField";

/** AppEditorPage is one app: Settings → General and Publish, its tables,
 * and for a model-driven app the views and forms the player shows; for a
 * canvas app, its web bundle. */
export function AppEditorPage({ id }: { id: string }) {
  const [app, setApp] = useState<App | null>(null);
  const [tables, setTables] = useState<Table[]>([]);
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [error, setError] = useState("");
  const loadProfiles = () => server.profiles().then(setProfiles, () => setProfiles([]));
  useEffect(() => {
    appsApi.app(id).then(setApp, (e: ServerError) => setError(e.message));
    server.tables().then(setTables, (e: ServerError) => setError(e.message));
    loadProfiles();
  }, [id]);
  if (error) return <main class="page"><p class="banner error" role="alert">{error}</p></main>;
  if (!app) return <main class="page" aria-busy="true"><p>Loading…</p></main>;
  return (
    <main class="page app-editor">
      <p><a href="#/apps">← Apps</a></p>
      <h1>{app.displayName || app.name} <span class="muted">{kindLabels[app.kind]} app</span></h1>
      <ul class="app-cards"><AppCard key={app.id} app={app} profiles={profiles} onChange={setApp} onProfiles={loadProfiles} heading={false} /></ul>
      {tables.length > 0 && <DefinitionEditor app={app} tables={tables} onSaved={setApp} />}
      {app.kind === "canvas" && <BundleUpload app={app} onUploaded={() => appsApi.app(id).then(setApp)} />}
    </main>
  );
}

const byDisplay = (a: Table, b: Table) => (a.displayName || a.name).localeCompare(b.displayName || b.name);

/** forUpload turns the editor's definition into the PATCH body: a view's
 * filter goes as its text when there is one (the server stores the tree);
 * a form's columns are its sections' fields. */
function forUpload(d: Definition): Definition {
  return {
    tables: d.tables,
    views: (d.views ?? []).map(({ filter, filterText, ...v }) => (filterText?.trim() ? { ...v, filterText } : filter ? { ...v, filter } : v)),
    forms: (d.forms ?? []).map((f) => {
      const columns = (f.sections ?? []).flatMap((s) => s.columns);
      return { ...f, columns, required: (f.required ?? []).filter((c) => columns.includes(c)), readOnly: (f.readOnly ?? []).filter((c) => columns.includes(c)) };
    }),
  };
}

function DefinitionEditor({ app, tables, onSaved }: { app: App; tables: Table[]; onSaved: (a: App) => void }) {
  const [def, setDef] = useState<Definition>(() => structuredClone(app.definition));
  const [error, setError] = useState<ServerError | null>(null);
  const [notice, setNotice] = useState("");
  const [adding, setAdding] = useState("");
  const modelDriven = app.kind === "modeldriven";
  const byName = new Map(tables.map((t) => [t.name, t]));
  const choosable = tables.filter((t) => !t.intersect).sort(byDisplay);
  const change = (d: Partial<Definition>) => {
    setDef((old) => ({ ...old, ...d }));
    setNotice("");
  };
  const views = def.views ?? [];
  const forms = def.forms ?? [];
  const setView = (i: number, v: Partial<View>) => change({ views: views.map((x, j) => (j === i ? { ...x, ...v } : x)) });
  const setForm = (i: number, f: Partial<Form>) => change({ forms: forms.map((x, j) => (j === i ? { ...x, ...f } : x)) });
  const firstTable = def.tables[0] ?? choosable[0]?.name ?? "";
  const at = (prefix: string) => (error && (error.target === prefix || error.target.startsWith(prefix + ".") || error.target.startsWith(prefix + "[")) ? error.message : "");
  const placed = error && /^definition\.(views|forms)\[\d+\]/.test(error.target);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setNotice("");
    try {
      const a = await appsApi.patch(app.id, { definition: forUpload(def) });
      onSaved(a);
      setDef(structuredClone(a.definition));
      setNotice("Saved. Publish the app so its users get the change.");
    } catch (x) {
      setError(x as ServerError);
    }
  };
  return (
    <form class="definition" onSubmit={save} aria-label="Tables, views and forms">
      <section class="panel" aria-labelledby="app-tables-h">
        <h2 id="app-tables-h">Tables</h2>
        <p class="muted">{modelDriven ? "The app's main tables: the player lists them, and a new profile with current app data starts from them." : "The tables the app's bundle reads and writes: an auto-generated profile takes each with All rows."}</p>
        <ul class="chips">
          {def.tables.map((t) => (
            <li>{byName.get(t)?.displayName || t} <small class="muted">{t}</small> <button type="button" class="link" aria-label={`Remove table ${t}`} onClick={() => change({ tables: def.tables.filter((x) => x !== t) })}>Remove</button></li>
          ))}
          {def.tables.length === 0 && <li class="muted">No tables yet.</li>}
        </ul>
        <div class="inline-form">
          <div class="grow"><label for="app-add-table">Add table</label>
            <select id="app-add-table" value={adding} onChange={(e) => setAdding(e.currentTarget.value)}>
              <option value="">Choose a table…</option>
              {choosable.filter((t) => !def.tables.includes(t.name)).map((t) => <option value={t.name}>{t.displayName || t.name} ({t.name})</option>)}
            </select></div>
          <div><button type="button" class="add-table" disabled={!adding} onClick={() => { change({ tables: [...def.tables, adding] }); setAdding(""); }}>Add</button></div>
        </div>
        {error?.target === "definition.tables" && <p class="field-error" role="alert">{error.message}</p>}
      </section>

      {modelDriven && (
        <section class="panel" aria-labelledby="app-views-h">
          <h2 id="app-views-h">Views</h2>
          <p class="muted">The lists the player shows: their columns, default sort, the columns quick search looks in, and a filter.</p>
          {views.map((v, i) => (
            <ViewEditor key={i} i={i} view={v} tables={choosable} table={byName.get(v.table)} error={at(`definition.views[${i}]`)} filterError={at(`definition.views[${i}].filterText`) || at(`definition.views[${i}].filter`)}
              onChange={(x) => setView(i, x)} onRemove={() => change({ views: views.filter((_, j) => j !== i) })} />
          ))}
          <button type="button" class="add-view" onClick={() => change({ views: [...views, { name: `View ${views.length + 1}`, table: firstTable, columns: [byName.get(firstTable)?.primaryName ?? "name"].filter(Boolean) }] })}>Add view</button>
        </section>
      )}

      {modelDriven && (
        <section class="panel" aria-labelledby="app-forms-h">
          <h2 id="app-forms-h">Forms</h2>
          <p class="muted">What the player shows for one row: sections of fields, each required or read-only as you choose.</p>
          {forms.map((f, i) => (
            <FormEditor key={i} i={i} form={f} tables={choosable} table={byName.get(f.table)} error={at(`definition.forms[${i}]`)}
              onChange={(x) => setForm(i, x)} onRemove={() => change({ forms: forms.filter((_, j) => j !== i) })} />
          ))}
          <button type="button" class="add-form" onClick={() => change({ forms: [...forms, { name: `Form ${forms.length + 1}`, table: firstTable, columns: [], sections: [{ name: "General", columns: [] }] }] })}>Add form</button>
        </section>
      )}

      {error && !placed && error.target !== "definition.tables" && <p class="field-error" role="alert">{error.message}</p>}
      {placed && <p class="field-error" role="alert">Not saved: {error!.message}</p>}
      {notice && <p class="banner" role="status">{notice}</p>}
      <div class="actions"><button type="submit" class="primary save-definition">Save {modelDriven ? "tables, views and forms" : "tables"}</button></div>
    </form>
  );
}

function TableSelect({ id, value, tables, onChange }: { id: string; value: string; tables: Table[]; onChange: (t: string) => void }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
      {tables.map((t) => <option value={t.name}>{t.displayName || t.name} ({t.name})</option>)}
    </select>
  );
}

const toggle = (list: string[] | undefined, v: string, on: boolean) => (on ? [...(list ?? []).filter((x) => x !== v), v] : (list ?? []).filter((x) => x !== v));
const colLabel = (t: Table | undefined, c: string) => t?.columns.find((x) => x.name === c)?.displayName || c;

function ViewEditor({ i, view, tables, table, error, filterError, onChange, onRemove }: {
  i: number; view: View; tables: Table[]; table?: Table; error: string; filterError: string; onChange: (v: Partial<View>) => void; onRemove: () => void;
}) {
  const id = `view-${i}`;
  const [sortCol, sortDir = ""] = (view.orderBy ?? "").trim().split(/\s+/);
  const cols = (table?.columns ?? []).filter((c) => c.type !== "file" && c.type !== "image");
  const texts = cols.filter((c) => !c.system && (c.type === "text" || c.type === "memo"));
  const columnBox = (c: { name: string; displayName?: string }) => (
    <label class="choice"><input type="checkbox" name="viewColumn" value={c.name} checked={(view.columns ?? []).includes(c.name)} onChange={(e) => onChange({ columns: toggle(view.columns, c.name, e.currentTarget.checked) })} /> {c.displayName || c.name}</label>
  );
  const setSort = (col: string, dir: string) => onChange({ orderBy: col ? (dir === "desc" ? `${col} desc` : col) : undefined });
  return (
    <fieldset class="section view-editor" aria-labelledby={id + "-legend"}>
      <legend id={id + "-legend"}>View: {view.name}</legend>
      <div class="inline-form">
        <div class="grow"><label for={id + "-name"}>Name</label>
          <input id={id + "-name"} name="viewName" required value={view.name} onInput={(e) => onChange({ name: e.currentTarget.value })} /></div>
        <div><label for={id + "-table"}>Table</label>
          <TableSelect id={id + "-table"} value={view.table} tables={tables} onChange={(t) => onChange({ table: t, columns: [], orderBy: undefined, searchColumns: undefined, filter: undefined, filterText: "" })} /></div>
      </div>
      <fieldset class="columns-choice">
        <legend>Columns <small>in this order; check to add at the end</small></legend>
        {(view.columns ?? []).length > 0 && <p class="order">{(view.columns ?? []).map((c) => colLabel(table, c)).join(" · ")}</p>}
        {cols.filter((c) => !c.system).map(columnBox)}
        <details class="system-columns">
          <summary>System columns</summary>
          {cols.filter((c) => c.system).map(columnBox)}
        </details>
      </fieldset>
      <div class="inline-form">
        <div class="grow"><label for={id + "-sort"}>Sort by</label>
          <select id={id + "-sort"} value={sortCol} onChange={(e) => setSort(e.currentTarget.value, sortDir)}>
            <option value="">No default order</option>
            {cols.map((c) => <option value={c.name}>{c.displayName || c.name}</option>)}
          </select></div>
        <div><label for={id + "-dir"}>Direction</label>
          <select id={id + "-dir"} value={sortDir.toLowerCase() === "desc" ? "desc" : "asc"} disabled={!sortCol} onChange={(e) => setSort(sortCol, e.currentTarget.value)}>
            <option value="asc">Ascending</option>
            <option value="desc">Descending</option>
          </select></div>
      </div>
      <fieldset class="columns-choice">
        <legend>Search columns <small>quick search looks in these text columns (none: every text column)</small></legend>
        {texts.map((c) => (
          <label class="choice"><input type="checkbox" name="searchColumn" value={c.name} checked={(view.searchColumns ?? []).includes(c.name)} onChange={(e) => onChange({ searchColumns: toggle(view.searchColumns, c.name, e.currentTarget.checked) })} /> {c.displayName || c.name}</label>
        ))}
      </fieldset>
      <ViewFilterField id={id + "-filter"} table={view.table} value={view.filterText ?? ""} tree={view.filter} error={filterError}
        onChange={(text, tree) => onChange({ filterText: text, filter: tree as View["filter"] })} />
      {error && !filterError && <p class="field-error" role="alert">{error}</p>}
      <p><button type="button" class="link" aria-label={`Remove view ${view.name}`} onClick={onRemove}>Remove view</button></p>
    </fieldset>
  );
}

function FormEditor({ i, form, tables, table, error, onChange, onRemove }: {
  i: number; form: Form; tables: Table[]; table?: Table; error: string; onChange: (f: Partial<Form>) => void; onRemove: () => void;
}) {
  const id = `form-${i}`;
  const sections = form.sections ?? [];
  const used = new Set(sections.flatMap((s) => s.columns));
  const free = (table?.columns ?? []).filter((c) => !used.has(c.name) && !c.system && c.type !== "file" && c.type !== "image");
  const setSection = (k: number, s: { name?: string; columns?: string[] }) => onChange({ sections: sections.map((x, j) => (j === k ? { ...x, ...s } : x)) });
  return (
    <fieldset class="section form-editor" aria-labelledby={id + "-legend"}>
      <legend id={id + "-legend"}>Form: {form.name}</legend>
      <div class="inline-form">
        <div class="grow"><label for={id + "-name"}>Name</label>
          <input id={id + "-name"} name="formName" required value={form.name} onInput={(e) => onChange({ name: e.currentTarget.value })} /></div>
        <div><label for={id + "-table"}>Table</label>
          <TableSelect id={id + "-table"} value={form.table} tables={tables} onChange={(t) => onChange({ table: t, columns: [], sections: [{ name: "General", columns: [] }], required: [], readOnly: [] })} /></div>
      </div>
      {sections.map((s, k) => (
        <SectionEditor key={k} id={`${id}-s${k}`} section={s} form={form} table={table} free={free.map((c) => c.name)}
          onChange={(x) => setSection(k, x)} onForm={onChange} onRemove={() => onChange({ sections: sections.filter((_, j) => j !== k) })} />
      ))}
      <p><button type="button" class="add-section" onClick={() => onChange({ sections: [...sections, { name: `Section ${sections.length + 1}`, columns: [] }] })}>Add section</button>
        {" "}<button type="button" class="link" aria-label={`Remove form ${form.name}`} onClick={onRemove}>Remove form</button></p>
      {error && <p class="field-error" role="alert">{error}</p>}
    </fieldset>
  );
}

function SectionEditor({ id, section, form, table, free, onChange, onForm, onRemove }: {
  id: string; section: { name: string; columns: string[] }; form: Form; table?: Table; free: string[];
  onChange: (s: { name?: string; columns?: string[] }) => void; onForm: (f: Partial<Form>) => void; onRemove: () => void;
}) {
  const [adding, setAdding] = useState("");
  return (
    <div class="form-section" role="group" aria-labelledby={id + "-title"}>
      <h3 id={id + "-title"} class="sr-only">Section {section.name}</h3>
      <div class="inline-form">
        <div class="grow"><label for={id + "-name"}>Section name</label>
          <input id={id + "-name"} name="sectionName" required value={section.name} onInput={(e) => onChange({ name: e.currentTarget.value })} /></div>
        <div><button type="button" class="link" aria-label={`Remove section ${section.name}`} onClick={onRemove}>Remove section</button></div>
      </div>
      <table class="rows fields">
        <thead><tr><th scope="col">Field</th><th scope="col">Required</th><th scope="col">Read-only</th><th scope="col"><span class="sr-only">Remove</span></th></tr></thead>
        <tbody>
          {section.columns.map((c) => (
            <tr data-field={c}>
              <td>{colLabel(table, c)}{colLabel(table, c) !== c && <small class="muted"> {c}</small>}</td>
              <td><input type="checkbox" name="required" aria-label={`${colLabel(table, c)} is required`} checked={(form.required ?? []).includes(c)} onChange={(e) => onForm({ required: toggle(form.required, c, e.currentTarget.checked) })} /></td>
              <td><input type="checkbox" name="readOnly" aria-label={`${colLabel(table, c)} is read-only`} checked={(form.readOnly ?? []).includes(c)} onChange={(e) => onForm({ readOnly: toggle(form.readOnly, c, e.currentTarget.checked) })} /></td>
              <td><button type="button" class="link" aria-label={`Remove field ${c}`} onClick={() => onChange({ columns: section.columns.filter((x) => x !== c) })}>Remove</button></td>
            </tr>
          ))}
          {section.columns.length === 0 && <tr><td colSpan={4} class="muted">No fields yet.</td></tr>}
        </tbody>
      </table>
      <div class="inline-form">
        <div class="grow"><label for={id + "-add"}>Add field</label>
          <select id={id + "-add"} name="addField" value={adding} onChange={(e) => setAdding(e.currentTarget.value)}>
            <option value="">Choose a column…</option>
            {free.map((c) => <option value={c}>{colLabel(table, c)} ({c})</option>)}
          </select></div>
        <div><button type="button" class="add-field" disabled={!adding} onClick={() => { onChange({ columns: [...section.columns, adding] }); setAdding(""); }}>Add field</button></div>
      </div>
    </div>
  );
}

/** BundleUpload replaces a canvas app's web bundle: a zip with index.html
 * at its root; the server's check refuses anything else, with its reason. */
function BundleUpload({ app, onUploaded }: { app: App; onUploaded: () => void }) {
  const file = useRef<HTMLInputElement>(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState<CanvasBundle | null>(null);
  const [busy, setBusy] = useState(false);
  const upload = async (e: Event) => {
    e.preventDefault();
    setError("");
    setDone(null);
    const f = file.current?.files?.[0];
    if (!f) {
      setError("Choose a .zip file first.");
      return;
    }
    setBusy(true);
    try {
      setDone(await appsApi.putBundle(app.id, f));
      onUploaded();
    } catch (x) {
      setError((x as ServerError).message);
    } finally {
      setBusy(false);
    }
  };
  const b = app.bundle;
  return (
    <section class="panel bundle" aria-labelledby="bundle-h">
      <h2 id="bundle-h">Web bundle</h2>
      <p class="muted">A zip of the app's HTML, JavaScript, CSS and images with <code>index.html</code> at its root: at most 2 MiB zipped, 8 MiB unpacked, 200 files. The player downloads it with the app and runs it offline, reaching the device's data through the host API (docs/player.md).</p>
      <p class="bundle-state">{b ? `Uploaded bundle: ${formatBytes(b.size)}, ${new Date(b.modifiedOn).toLocaleString("en")}, SHA-256 ${b.sha256.slice(0, 12)}…` : "No bundle uploaded yet: the player cannot open this app until one is."}</p>
      <form class="inline-form" onSubmit={upload} aria-label="Upload the web bundle">
        <div class="grow"><label for="bundle-file">Bundle (.zip)</label>
          <input id="bundle-file" ref={file} type="file" accept=".zip,application/zip" aria-invalid={error ? "true" : undefined} aria-describedby={error ? "bundle-error" : undefined} /></div>
        <div><button type="submit" class="primary" disabled={busy}>Upload</button></div>
      </form>
      {error && <p id="bundle-error" class="field-error" role="alert">{error}</p>}
      {done && <div role="status" class="bundle-done"><p>Uploaded {formatBytes(done.size)}, {done.files.length} files:</p><p class="muted files">{done.files.join(", ")}</p></div>}
    </section>
  );
}
