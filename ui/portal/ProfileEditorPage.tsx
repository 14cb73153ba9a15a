import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { server, ServerError, type Item, type ItemInput, type Preview, type Problem, type Profile, type Relationship, type Rule, type Table } from "../shared/server";
import { maxRelationships, ruleLabels, rulesFor } from "./rules";
import { profileState } from "./ProfilesPage";
import { FilterBuilder, type Node } from "./FilterBuilder";
import { profileApi, type ItemCheck } from "./profileApi";
import { AccessPanel, AppUsagePanel, PublishedPanel } from "./ProfilePanels";

const intervals = [5, 10, 15, 30, 60, 120, 240, 480, 720, 1440];
const maxImages = 14;

function intervalLabel(m: number): string {
  return m < 60 ? `${m} minutes` : m === 1440 ? "1 day" : m === 60 ? "1 hour" : `${m / 60} hours`;
}

/** Draft is the item being edited; filterSource says which form of the
 * custom filter the maker edited last (the other comes from the server). */
type Draft = Item & { filterText?: string; filterSource?: "text" | "tree" };

/** itemBody is what PUT (and the check) get for d: the filter in the form edited last. */
function itemBody(d: Draft): ItemInput {
  const { table, filter, filterText, filterSource, ...rest } = d;
  if (d.rule !== "custom") return rest;
  if (filterSource === "tree" || filterText === undefined) return filter ? { ...rest, filter } : rest;
  return { ...rest, filterText };
}

/** checkDelay is how long the editor waits after a change before asking the server. */
const checkDelay = 250;

/** ProfileEditorPage edits one profile: its tables, their rules, relationships,
 * files and interval, with the live relationship count, validation, publish
 * and the preview for a user. */
export function ProfileEditorPage({ id }: { id: string }) {
  const [profile, setProfile] = useState<Profile | null>(null);
  const [tables, setTables] = useState<Table[]>([]);
  const [rels, setRels] = useState<Record<string, Relationship[]>>({});
  const [selected, setSelected] = useState("");
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saveError, setSaveError] = useState<ServerError | null>(null);
  const [error, setError] = useState("");
  const [validation, setValidation] = useState<{ errors: Problem[]; warnings: Problem[]; valid: boolean } | null>(null);
  const [notice, setNotice] = useState("");

  useEffect(() => {
    // Another profile: nothing of the previous one's editing stays.
    setProfile(null);
    setSelected("");
    setDraft(null);
    setSaveError(null);
    setValidation(null);
    setNotice("");
    server.profile(id).then(setProfile, (e: ServerError) => setError(e.message));
    server.tables().then(setTables, (e: ServerError) => setError(e.message));
  }, [id]);

  // Relationships of every table in the profile, fetched once each.
  useEffect(() => {
    for (const it of profile?.items ?? []) {
      if (rels[it.table]) continue;
      server.relationships(it.table).then((r) => setRels((m) => ({ ...m, [it.table]: r })));
    }
  }, [profile]);

  const items = useMemo(() => {
    const list = profile?.items ?? [];
    if (!draft) return list;
    return list.some((i) => i.table === draft.table) ? list.map((i) => (i.table === draft.table ? draft : i)) : [...list, draft];
  }, [profile, draft]);

  // The live check: the item being edited (or, with none, the first saved
  // one) checked by the server against the draft, debounced. It gives every
  // table's relationship count, the filter's other form and the field error.
  const [check, setCheck] = useState<ItemCheck | null>(null);
  const sent = useRef("");
  useEffect(() => {
    const it = draft ?? profile?.items[0];
    if (!profile || !it) return setCheck(null);
    const body = itemBody(it);
    const key = profile.id + JSON.stringify([it.table, body, profile.items]);
    if (key === sent.current) return;
    const timer = setTimeout(async () => {
      sent.current = key;
      try {
        const c = await profileApi.checkItem(profile.id, it.table, body);
        if (sent.current !== key) return;
        setCheck(c);
        if (draft && c.item && draft.rule === "custom") {
          if (draft.filterSource === "tree" && c.filterText !== undefined && c.filterText !== draft.filterText) setDraft((d) => (d && d.table === it.table ? { ...d, filterText: c.filterText } : d));
          if (draft.filterSource !== "tree" && JSON.stringify(c.item.filter) !== JSON.stringify(draft.filter)) setDraft((d) => (d && d.table === it.table ? { ...d, filter: c.item!.filter } : d));
        }
      } catch {
        setCheck(null);
      }
    }, checkDelay);
    return () => clearTimeout(timer);
  }, [profile, draft]);
  const counts = check?.counts ?? [];

  if (error) return <main class="page"><p class="banner error" role="alert">{error}</p></main>;
  if (!profile) return <main class="page" aria-busy="true"><p>Loading…</p></main>;

  const byName = new Map(tables.map((t) => [t.name, t]));
  const inProfile = new Set(items.map((i) => i.table));
  const addable = tables.filter((t) => t.offline && !inProfile.has(t.name));

  const pick = (table: string) => {
    setSelected(table);
    setSaveError(null);
    const it = profile.items.find((i) => i.table === table);
    setDraft(it ? { ...it, filterSource: "tree" } : null);
  };
  const addTable = (table: string) => {
    if (!table) return;
    const t = byName.get(table)!;
    setSelected(table);
    setSaveError(null);
    setDraft({ table, rule: rulesFor(t.ownership).includes("organization") ? "organization" : "all", userRows: t.ownership === "user", businessUnitRows: t.ownership === "business", intervalMinutes: 10 });
    if (!rels[table]) server.relationships(table).then((r) => setRels((m) => ({ ...m, [table]: r })));
  };
  const save = async () => {
    if (!draft) return;
    setSaveError(null);
    const table = draft.table;
    try {
      const p = await server.putItem(profile.id, table, itemBody(draft));
      setProfile(p);
      setDraft({ ...p.items.find((i) => i.table === table)!, filterText: draft.filterText, filterSource: draft.filterSource });
      setValidation(null);
      setNotice(`Saved ${table}.`);
    } catch (e) {
      setSaveError(e as ServerError);
    }
  };
  const remove = async (table: string) => {
    try {
      setProfile(await server.deleteItem(profile.id, table));
      setSelected("");
      setDraft(null);
    } catch (e) {
      setError((e as ServerError).message);
    }
  };
  const validate = async () => setValidation(await server.validate(profile.id));
  const publish = async () => {
    try {
      const r = await server.publish(profile.id);
      setProfile(r.profile);
      setValidation({ valid: true, errors: [], warnings: r.warnings });
      setNotice(`Published version ${r.profile.publishedVersion}.`);
    } catch (e) {
      await validate();
      setNotice("");
    }
  };

  const unsaved = draft && JSON.stringify(profile.items.find((i) => i.table === draft.table)) !== JSON.stringify((({ filterText, filterSource, ...d }) => d)(draft));
  const liveError = check?.error && draft && !saveError ? new ServerError(400, "invalid", check.error.message, check.error.target ?? "") : null;

  return (
    <main class="page">
      <p><a href="#/profiles">Offline profiles</a></p>
      <h1>{profile.name}</h1>
      <p class="muted profile-state">{profileState(profile)}</p>
      {notice && <p class="banner" role="status">{notice}</p>}
      <div class="editor">
        <section class="item-list" aria-labelledby="tables-h">
          <h2 id="tables-h">Tables</h2>
          <ul>
            {items.map((it) => {
              const c = counts.find((x) => x.table === it.table) ?? { table: it.table, count: -1 };
              const problems = validation?.errors.filter((p) => p.table === it.table) ?? [];
              return (
                <li class={selected === it.table ? "selected" : ""}>
                  <button class="item-button" aria-pressed={selected === it.table} onClick={() => pick(it.table)}>
                    <span class="item-name">{byName.get(it.table)?.displayName || it.table}</span>
                    <span class="muted">{ruleLabels[it.rule]}</span>
                    <span class={"rel-count" + (c.over ? " over" : "")} aria-label={c.count < 0 ? "counting relationships" : `${c.count > maxRelationships ? "more than " + maxRelationships : c.count} of ${maxRelationships} relationships`}>
                      {c.count < 0 ? "…" : c.count > maxRelationships ? `>${maxRelationships}` : c.count}/{maxRelationships}
                    </span>
                  </button>
                  {c.over && <p class="field-error">More than {maxRelationships} relationships counted transitively; the 16th is {c.over}</p>}
                  {problems.map((p) => <p class="field-error problem">{p.message}</p>)}
                </li>
              );
            })}
          </ul>
          <label for="add-table">Add table <small>Only tables that can be taken offline.</small></label>
          <select id="add-table" value="" onChange={(e) => addTable(e.currentTarget.value)}>
            <option value="">Choose a table…</option>
            {addable.map((t) => <option value={t.name}>{t.displayName || t.name}</option>)}
          </select>
        </section>
        <section class="item-editor" aria-labelledby="item-h">
          {draft ? (
            <ItemEditor key={draft.table} draft={draft} table={byName.get(draft.table)} rels={rels[draft.table] ?? []} inProfile={inProfile}
              imagesElsewhere={items.filter((i) => i.table !== draft.table).reduce((n, i) => n + (i.imageColumns?.length ?? 0), 0)}
              tables={byName} error={saveError ?? liveError} onChange={setDraft} onSave={save} onRemove={() => remove(draft.table)} unsaved={!!unsaved} />
          ) : (
            <p class="muted" id="item-h">Choose a table to edit its rows, relationships, files and sync interval, or add one.</p>
          )}
        </section>
      </div>
      <div class="actions profile-actions">
        <button class="validate" onClick={validate}>Validate</button>
        <button class="primary publish" onClick={publish}>Publish</button>
      </div>
      {validation && (
        <div class={"banner " + (validation.errors.length ? "error" : "")} role="status" aria-live="polite">
          {validation.errors.length ? <p>{validation.errors.length} problem(s) to fix before publishing:</p> : <p>No problems: the profile can be published.</p>}
          <ul class="problems">{validation.errors.map((p) => <li>{p.message}</li>)}</ul>
          {validation.warnings.length > 0 && <ul class="warnings">{validation.warnings.map((p) => <li>{p.message}</li>)}</ul>}
        </div>
      )}
      <PreviewPanel profile={profile} />
      <PublishedPanel profile={profile} onDiscarded={(p) => { setProfile(p); setDraft(null); setSelected(""); setValidation(null); setNotice("Discarded the draft: the profile is its published version again."); }} />
      <AppUsagePanel profile={profile} />
      <AccessPanel profile={profile} onSaved={(p) => { setProfile(p); setNotice("Saved who has offline access."); }} />
    </main>
  );
}

function ItemEditor(props: {
  draft: Draft; table?: Table; tables: Map<string, Table>; rels: Relationship[]; inProfile: Set<string>; imagesElsewhere: number;
  error: ServerError | null; unsaved: boolean; onChange: (d: Draft) => void; onSave: () => void; onRemove: () => void;
}) {
  const { draft, table, rels, error } = props;
  const set = (p: Partial<Draft>) => props.onChange({ ...draft, ...p });
  const rules = rulesFor(table?.ownership ?? "none");
  const offered = rels.filter((r) => props.inProfile.has(r.related) && r.related !== draft.table);
  const images = table?.columns.filter((c) => c.type === "image") ?? [];
  const hasFiles = table?.columns.some((c) => c.type === "file");
  const at = (field: string) => {
    const t = error?.target ?? "";
    return error && (t === field || t.endsWith("." + field) || t.startsWith(field + ".") || t.startsWith(field + "[") || t.startsWith(field + ":")) ? error.message : "";
  };
  const general = error && !["rule", "filter", "filterText", "relationships", "imageColumns", "intervalMinutes", "userRows"].some((f) => at(f)) ? error.message : "";
  const toggle = (list: string[] | undefined, v: string, on: boolean) => (on ? [...(list ?? []), v] : (list ?? []).filter((x) => x !== v));
  const filterText = draft.filterText ?? "";
  return (
    <form onSubmit={(e) => { e.preventDefault(); props.onSave(); }} aria-labelledby="item-h">
      <h2 id="item-h">{table?.displayName || draft.table} <span class="muted">{table ? `owned by ${table.ownership}` : ""}</span></h2>
      <fieldset class="section">
        <legend>Rows to make available</legend>
        {rules.map((r) => (
          <label class="choice"><input type="radio" name="rule" value={r} checked={draft.rule === r} onChange={() => set(ruleChange(draft, r as Rule, table?.ownership))} /> {ruleLabels[r as Rule]}</label>
        ))}
        {at("rule") && <p class="field-error" role="alert">{at("rule")}</p>}
        {draft.rule === "organization" && (
          <div class="sub">
            {table?.ownership === "user" && <label class="choice"><input type="checkbox" name="userRows" checked={!!draft.userRows} onChange={(e) => set({ userRows: e.currentTarget.checked })} /> User's rows</label>}
            {table?.ownership === "user" && <label class="choice"><input type="checkbox" name="teamRows" checked={!!draft.teamRows} onChange={(e) => set({ teamRows: e.currentTarget.checked })} /> Team rows</label>}
            <label class="choice"><input type="checkbox" name="businessUnitRows" checked={!!draft.businessUnitRows} onChange={(e) => set({ businessUnitRows: e.currentTarget.checked })} /> Business unit rows</label>
          </div>
        )}
        {draft.rule === "custom" && (
          <div class="sub">
            <FilterBuilder table={draft.table} tables={props.tables} value={(draft.filter as Node | undefined) ?? null}
              onChange={(n) => set({ filter: n as Item["filter"], filterSource: "tree" })} />
            <label for="filter-text">The same filter as text <small>OData $filter, e.g. <code>statecode eq 0 and createdon ge 2026-01-01T00:00:00Z</code>; edit either one</small></label>
            <textarea id="filter-text" name="filterText" rows={5} value={filterText}
              aria-invalid={at("filterText") || at("filter") ? "true" : undefined} aria-describedby="filter-error"
              onInput={(e) => set({ filterText: e.currentTarget.value, filterSource: "text" })} />
            {(at("filterText") || at("filter")) && <p id="filter-error" class="field-error" role="alert">{at("filterText") || at("filter")}</p>}
          </div>
        )}
      </fieldset>
      <fieldset class="section">
        <legend>Relationships</legend>
        {offered.length === 0 ? <p class="muted">No relationship of this table leads to another table of the profile.</p> : offered.map((r) => (
          <label class="choice"><input type="checkbox" name="relationships" value={r.name} checked={draft.relationships?.includes(r.name) ?? false}
            onChange={(e) => set({ relationships: toggle(draft.relationships, r.name, e.currentTarget.checked) })} /> {r.name} <span class="muted">{r.kind} {r.related}</span></label>
        ))}
        {at("relationships") && <p class="field-error" role="alert">{at("relationships")}</p>}
      </fieldset>
      <fieldset class="section">
        <legend>Files / Images</legend>
        {images.length === 0 && !hasFiles && <p class="muted">This table has no file or image columns.</p>}
        {images.map((c) => (
          <label class="choice"><input type="checkbox" name="imageColumns" value={c.name} checked={draft.imageColumns?.includes(c.name) ?? false}
            onChange={(e) => set({ imageColumns: toggle(draft.imageColumns, c.name, e.currentTarget.checked) })} /> Image {c.name}</label>
        ))}
        {images.length > 0 && <p class="muted">{props.imagesElsewhere + (draft.imageColumns?.length ?? 0)} of {maxImages} image columns in the profile.</p>}
        {hasFiles && <label class="choice"><input type="checkbox" name="files" checked={!!draft.files} onChange={(e) => set({ files: e.currentTarget.checked })} /> Every file column</label>}
        {at("imageColumns") && <p class="field-error" role="alert">{at("imageColumns")}</p>}
      </fieldset>
      <label for="interval">Sync interval</label>
      <select id="interval" name="intervalMinutes" value={draft.intervalMinutes || 10} onChange={(e) => set({ intervalMinutes: Number(e.currentTarget.value) })}>
        {intervals.map((m) => <option value={m}>{intervalLabel(m)}</option>)}
      </select>
      {at("intervalMinutes") && <p class="field-error" role="alert">{at("intervalMinutes")}</p>}
      {general && <p class="field-error" role="alert">{general}</p>}
      <div class="actions">
        <button type="submit" class="primary">{props.unsaved ? "Save table" : "Saved"}</button>
        <button type="button" class="danger" onClick={props.onRemove}>Remove from profile</button>
      </div>
    </form>
  );
}

/** ruleChange switches an item's rule, dropping the options of the others
 * (Organization rows' choices, Custom's filter), as the server requires. */
function ruleChange(d: Draft, rule: Rule, ownership?: string): Partial<Draft> {
  const p: Partial<Draft> = { rule };
  if (rule !== "organization") Object.assign(p, { userRows: false, teamRows: false, businessUnitRows: false });
  if (rule !== "custom") Object.assign(p, { filter: undefined, filterText: undefined });
  if (rule === "organization" && !d.userRows && !d.teamRows && !d.businessUnitRows) {
    if (ownership === "business") p.businessUnitRows = true;
    else p.userRows = true;
  }
  return p;
}

function PreviewPanel({ profile }: { profile: Profile }) {
  const [users, setUsers] = useState<Record<string, unknown>[]>([]);
  const [user, setUser] = useState("");
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState("");
  useEffect(() => void server.users().then(setUsers, () => setUsers([])), []);
  const run = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      setPreview(await server.preview(profile.id, user));
    } catch (x) {
      setPreview(null);
      setError((x as ServerError).message);
    }
  };
  return (
    <section class="preview" aria-labelledby="preview-h">
      <h2 id="preview-h">Preview for a user</h2>
      <p class="muted">The rows the draft would put on this user's device, and the exact SQL that selects them.</p>
      <form class="inline-form" onSubmit={run} aria-label="Preview">
        <div class="grow"><label for="preview-user">User</label>
          <select id="preview-user" name="user" value={user} onChange={(e) => setUser(e.currentTarget.value)}>
            <option value="">Me</option>
            {users.map((u) => <option value={String(u.systemuserid)}>{String(u.fullname)} ({String(u.domainname)})</option>)}
          </select></div>
        <div><button type="submit">Preview</button></div>
      </form>
      {error && <p class="field-error" role="alert">{error}</p>}
      {preview && (
        <>
          <p class="preview-total"><strong>{preview.totalRows.toLocaleString("en")}</strong> rows in total, about {bytes(preview.totalRows * 1024)}.</p>
          {preview.warnings.map((w) => <p class="banner warn">{w.message}</p>)}
          <table class="rows preview-rows">
            <thead><tr><th scope="col">Table</th><th scope="col">Rows</th><th scope="col">SQL</th></tr></thead>
            <tbody>
              {preview.items.map((it) => (
                <tr>
                  <td>{it.table}</td>
                  <td data-label="Rows" class="num">{it.rows.toLocaleString("en")}</td>
                  <td data-label="SQL"><details><summary>SQL ({it.args.length} arguments)</summary><pre class="sql">{it.sql}</pre>
                    {it.args.length > 0 && <p class="muted">Arguments: {it.args.map((a) => JSON.stringify(a)).join(", ")}</p>}
                    {it.chains.length > 0 && <p class="muted">Chains: {it.chains.join("; ")}</p>}</details></td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function bytes(n: number): string {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}
