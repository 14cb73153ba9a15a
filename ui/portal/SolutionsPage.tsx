import { useEffect, useState } from "preact/hooks";
import { server, ServerError, type App, type Profile, type Table } from "../shared/server";
import { ops, type Component, type ImportResult, type RequiredComponent, type Solution } from "./opsApi";
import { go } from "./route";

const kindLabels: Record<string, string> = { app: "App", profile: "Offline profile", table: "Table" };

/** useObjects loads what a solution's components can be, to name them. */
function useObjects() {
  const [apps, setApps] = useState<App[]>([]);
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [tables, setTables] = useState<Table[]>([]);
  useEffect(() => {
    server.apps().then(setApps, () => setApps([]));
    server.profiles().then(setProfiles, () => setProfiles([]));
    server.tables().then(setTables, () => setTables([]));
  }, []);
  const name = (c: Component): string => {
    if (c.kind === "app") return apps.find((a) => a.id === c.id)?.name ?? c.id;
    if (c.kind === "profile") return profiles.find((p) => p.id === c.id)?.name ?? c.id;
    const t = tables.find((t) => t.name === c.id);
    return t ? `${t.displayName || t.name} (${t.name})` : c.id;
  };
  return { apps, profiles, tables, name };
}

/** SolutionsPage lists the solutions, creates one and imports an archive. */
export function SolutionsPage() {
  const [list, setList] = useState<Solution[] | null>(null);
  const [error, setError] = useState("");
  const [form, setForm] = useState({ uniqueName: "", name: "", version: "" });
  const [createError, setCreateError] = useState({ message: "", target: "" });
  useEffect(() => void ops.solutions().then(setList, (e: ServerError) => setError(e.message)), []);
  const create = async (e: Event) => {
    e.preventDefault();
    setCreateError({ message: "", target: "" });
    try {
      const s = await ops.createSolution({ uniqueName: form.uniqueName, name: form.name || undefined, version: form.version || undefined });
      go("solutions", s.uniqueName);
    } catch (x) {
      const se = x as ServerError;
      setCreateError({ message: se.message, target: se.target || "uniqueName" });
    }
  };
  const field = (key: keyof typeof form, label: string, hint?: string) => {
    const id = "ns-" + key;
    const bad = createError.message && createError.target === key;
    return (
      <div class="grow">
        <label for={id}>{label}{hint && <small>{hint}</small>}</label>
        <input id={id} name={key} required={key === "uniqueName"} value={form[key]} onInput={(e) => setForm({ ...form, [key]: e.currentTarget.value })}
          aria-invalid={bad ? "true" : undefined} aria-describedby={bad ? "ns-error" : undefined} />
        {bad && <p id="ns-error" class="field-error" role="alert">{createError.message}</p>}
      </div>
    );
  };
  return (
    <main class="page">
      <h1>Solutions</h1>
      <p class="muted">A solution carries tables, offline profiles and apps from one server to another: export it here, import it there.</p>
      {error && <p class="banner error" role="alert">{error}</p>}
      {list && (list.length === 0 ? <p>No solutions yet.</p> : (
        <table class="rows">
          <thead><tr><th scope="col">Solution</th><th scope="col">Unique name</th><th scope="col">Version</th><th scope="col">Components</th></tr></thead>
          <tbody>
            {list.map((s) => (
              <tr>
                <td><a href={"#/solutions/" + encodeURIComponent(s.uniqueName)}>{s.name}</a></td>
                <td data-label="Unique name"><code>{s.uniqueName}</code></td>
                <td data-label="Version">{s.version}</td>
                <td data-label="Components">{s.components.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      <h2>New solution</h2>
      <form class="inline-form" onSubmit={create} aria-label="New solution">
        {field("uniqueName", "Unique name", "Lowercase letters, digits and underscores.")}
        {field("name", "Display name", "Optional; the unique name if empty.")}
        {field("version", "Version", "Optional; 1.0.0 if empty.")}
        <div><button type="submit" class="primary">Create solution</button></div>
      </form>
      {createError.message && !["uniqueName", "name", "version"].includes(createError.target) && <p class="field-error" role="alert">{createError.message}</p>}
      <ImportForm />
    </main>
  );
}

/** ImportForm uploads a solution archive and shows what it created, and
 * what still needs the maker (the republish prompt). */
function ImportForm() {
  const [file, setFile] = useState<File | null>(null);
  const [publish, setPublish] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [result, setResult] = useState<ImportResult | null>(null);
  const run = async (e: Event) => {
    e.preventDefault();
    if (!file) return setError("Choose a solution archive (.zip) to import.");
    setError("");
    setResult(null);
    setBusy(true);
    try {
      setResult(await ops.importSolution(file, publish));
    } catch (x) {
      setError((x as ServerError).message);
    } finally {
      setBusy(false);
    }
  };
  const list = (title: string, items: string[], cls: string) =>
    items.length > 0 && (<><h3>{title}</h3><ul class={cls}>{items.map((i) => <li>{i}</li>)}</ul></>);
  return (
    <section aria-labelledby="import-h">
      <h2 id="import-h">Import a solution</h2>
      <form class="inline-form" onSubmit={run} aria-label="Import a solution">
        <div class="grow"><label for="import-file">Solution archive <small>A .zip exported from an Outpost server.</small></label>
          <input id="import-file" type="file" accept=".zip,application/zip" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            aria-invalid={error ? "true" : undefined} aria-describedby={error ? "import-error" : undefined} /></div>
        <div><label class="choice"><input type="checkbox" name="publish" checked={publish} onChange={(e) => setPublish(e.currentTarget.checked)} /> Publish the imported profiles</label></div>
        <div><button type="submit" class="primary" disabled={busy}>{busy ? "Importing…" : "Import"}</button></div>
      </form>
      {error && <p id="import-error" class="field-error" role="alert">{error}</p>}
      {result && (
        <div class="panel import-result" role="status">
          <h3>Imported {result.solution}</h3>
          {list("Created", result.created, "created")}
          {list("Updated", result.updated, "updated")}
          {list("Published", result.published, "published")}
          {result.created.length + result.updated.length === 0 && <p>Nothing was created or changed: this server had it all already.</p>}
          {result.notes.length > 0 && (
            <div class="banner warn next-steps">
              <h3>Still to do</h3>
              <ul>{result.notes.map((n) => <li>{n}</li>)}</ul>
              <p>Publish on <a href="#/profiles">Offline profiles</a>, then turn on <em>Can be used offline</em> and publish on <a href="#/apps">Apps</a>; devices get nothing until then.</p>
            </div>
          )}
        </div>
      )}
    </section>
  );
}

/** SolutionPage is one solution: its components, Add component, Add
 * required objects (what it added and why) and Export. */
export function SolutionPage({ name }: { name: string }) {
  const [sol, setSol] = useState<Solution | null>(null);
  const [error, setError] = useState("");
  const [added, setAdded] = useState<RequiredComponent[] | null>(null);
  const [actionError, setActionError] = useState("");
  const [exported, setExported] = useState("");
  const objects = useObjects();
  useEffect(() => void ops.solution(name).then(setSol, (e: ServerError) => setError(e.message)), [name]);
  const act = async (f: () => Promise<void>) => {
    setActionError("");
    setExported("");
    try {
      await f();
    } catch (x) {
      setActionError((x as ServerError).message);
    }
  };
  if (error) return <main class="page"><p class="banner error" role="alert">{error}</p><a href="#/solutions">All solutions</a></main>;
  if (!sol) return <main class="page" aria-busy="true"><p>Loading…</p></main>;
  return (
    <main class="page">
      <p><a href="#/solutions">Solutions</a> /</p>
      <h1>{sol.name} <span class="muted">{sol.uniqueName} · {sol.version}</span></h1>
      <h2>Components</h2>
      {sol.components.length === 0 ? <p class="muted">No components yet: add the app, and Add required objects adds what it needs.</p> : (
        <table class="rows components">
          <thead><tr><th scope="col">Component</th><th scope="col">Kind</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {sol.components.map((c) => (
              <tr data-kind={c.kind} data-id={c.id}>
                <td>{objects.name(c)}</td>
                <td data-label="Kind">{kindLabels[c.kind] ?? c.kind}</td>
                <td><button class="link danger" aria-label={`Remove ${objects.name(c)}`} onClick={() => act(async () => setSol(await ops.removeComponent(sol.uniqueName, c)))}>Remove</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AddComponent sol={sol} objects={objects} onAdded={(s) => { setSol(s); setAdded(null); }} />
      <div class="actions">
        <button class="add-required" onClick={() => act(async () => {
          // The list and what was added show together: the result never
          // stands beside a list that does not hold it yet.
          const a = await ops.addRequired(sol.uniqueName);
          const s = await ops.solution(sol.uniqueName);
          setSol(s);
          setAdded(a);
        })}>Add required objects</button>
        <button class="primary export" onClick={() => act(async () => {
          await ops.exportSolution(sol.uniqueName);
          setExported(`Downloaded ${sol.uniqueName}.zip.`);
        })}>Export</button>
      </div>
      {actionError && <p class="field-error" role="alert">{actionError}</p>}
      {exported && <p class="banner" role="status">{exported}</p>}
      {added && (
        <div class="panel required-result" role="status">
          <h3>{added.length === 0 ? "Nothing was missing" : `Added ${added.length} required ${added.length === 1 ? "object" : "objects"}`}</h3>
          {added.length > 0 && (
            <ul>{added.map((c) => <li data-kind={c.kind} data-id={c.id}><strong>{kindLabels[c.kind] ?? c.kind} {objects.name(c)}</strong>: {c.reason}</li>)}</ul>
          )}
        </div>
      )}
    </main>
  );
}

function AddComponent({ sol, objects, onAdded }: { sol: Solution; objects: ReturnType<typeof useObjects>; onAdded: (s: Solution) => void }) {
  const [kind, setKind] = useState("app");
  const [id, setId] = useState("");
  const [error, setError] = useState("");
  const has = (k: string, i: string) => sol.components.some((c) => c.kind === k && c.id === i);
  const options: { id: string; label: string }[] =
    kind === "app" ? objects.apps.map((a) => ({ id: a.id, label: a.displayName || a.name }))
    : kind === "profile" ? objects.profiles.map((p) => ({ id: p.id, label: p.name }))
    : objects.tables.map((t) => ({ id: t.name, label: `${t.displayName || t.name} (${t.name})` }));
  const add = async (e: Event) => {
    e.preventDefault();
    setError("");
    if (!id) return setError("Choose what to add.");
    try {
      onAdded(await ops.addComponent(sol.uniqueName, { kind, id }));
      setId("");
    } catch (x) {
      setError((x as ServerError).message);
    }
  };
  return (
    <form class="inline-form" onSubmit={add} aria-label="Add component">
      <div><label for="ac-kind">Kind</label>
        <select id="ac-kind" value={kind} onChange={(e) => { setKind(e.currentTarget.value); setId(""); }}>
          <option value="app">App</option>
          <option value="profile">Offline profile</option>
          <option value="table">Table</option>
        </select></div>
      <div class="grow"><label for="ac-id">Component</label>
        <select id="ac-id" value={id} onChange={(e) => setId(e.currentTarget.value)}
          aria-invalid={error ? "true" : undefined} aria-describedby={error ? "ac-error" : undefined}>
          <option value="">Choose…</option>
          {options.filter((o) => !has(kind, o.id)).map((o) => <option value={o.id}>{o.label}</option>)}
        </select>
        {error && <p id="ac-error" class="field-error" role="alert">{error}</p>}</div>
      <div><button type="submit">Add component</button></div>
    </form>
  );
}
