import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type AppDefinition, type Column, type Row } from "../shared/api";
import { label, shortId, systemColumns } from "../shared/format";
import { FileField } from "./FileField";
import { RelatedRows, relationsTo } from "./RelatedRows";
import { go } from "./route";

const system = systemColumns;

/** isFile: the column holds a file or image, taken by FileField and stored apart from the form's save. */
const isFile = (c: Column) => c.type === "file" || c.type === "image";

type Draft = Record<string, string | boolean>;

/** toDraft turns a stored value into what an input holds. */
function toDraft(c: Column, v: unknown): string | boolean {
  if (c.type === "boolean") return v === true;
  if (v === null || v === undefined) return "";
  if (c.type === "datetime") {
    const d = new Date(String(v));
    if (isNaN(d.getTime())) return String(v);
    const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
    return local.toISOString().slice(0, 16);
  }
  return String(v);
}

/** fromDraft checks an input and returns the value to store, or an error. */
function fromDraft(c: Column, d: string | boolean): { value?: unknown; error?: string } {
  if (c.type === "boolean") return { value: d === true };
  const s = String(d).trim();
  if (s === "") return { value: null };
  switch (c.type) {
    case "integer":
    case "choice":
      return /^-?\d+$/.test(s) ? { value: Number(s) } : { error: "Enter a whole number." };
    case "decimal":
    case "money":
      return isFinite(Number(s)) ? { value: Number(s) } : { error: "Enter a number, such as 12.50." };
    case "datetime": {
      const t = new Date(s);
      return isNaN(t.getTime()) ? { error: "Enter a date and time." } : { value: t.toISOString() };
    }
  }
  return { value: s };
}

function LookupField({ col, value, onChange, id, readOnly }: { col: Column; value: string; onChange: (v: string) => void; id: string; readOnly?: boolean }) {
  const [options, setOptions] = useState<{ id: string; name: string }[]>([]);
  const [query, setQuery] = useState("");
  const [current, setCurrent] = useState<string | null>(null); // null while loading
  useEffect(() => {
    if (!value) return;
    setCurrent(null);
    api.row(col.target, value).then(
      (r) => setCurrent(String(r.name ?? value)),
      () => setCurrent(`${shortId(value)} (not on this device)`),
    );
  }, [col.target, value]);
  useEffect(() => {
    const t = setTimeout(() => {
      api.rows(col.target, { search: query, orderby: "name", top: 50 }).then(
        (p) => {
          const pk = Object.keys(p.rows[0] ?? {}).find((k) => k === `${col.target}id`) ?? `${col.target}id`;
          setOptions(p.rows.map((r) => ({ id: String(r[pk]), name: String(r.name ?? r[pk]) })));
        },
        () => setOptions([]),
      );
    }, 150);
    return () => clearTimeout(t);
  }, [col.target, query]);
  return (
    <div class="lookup">
      {!readOnly && <input type="search" placeholder={`Search ${label(col.target).toLowerCase()}s`} aria-label={`Find ${label(col.name)}`} value={query} onInput={(e) => setQuery(e.currentTarget.value)} />}
      <select id={id} value={value} disabled={readOnly} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">(none)</option>
        {value && !options.some((o) => o.id === value) && <option value={value}>{current ?? "Loading…"}</option>}
        {options.map((o) => (
          <option value={o.id}>{o.name}</option>
        ))}
      </select>
      {value && (
        <a class="open-lookup" href={`#/form/${encodeURIComponent(col.target)}/${encodeURIComponent(value)}`}>
          Open {label(col.target).toLowerCase()}
        </a>
      )}
    </div>
  );
}

/** FormPage shows one row's fields by type; saves and deletes offline. */
export function FormPage({ app, table, id }: { app: AppDefinition; table: string; id: string }) {
  const def = app.tables.find((t) => t.name === table);
  const form = app.forms.find((f) => f.table === table);
  const isNew = id === "new";
  const [row, setRow] = useState<Row | null>(isNew ? {} : null);
  const [draft, setDraft] = useState<Draft>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  if (!def) return <main class="page"><p class="banner error">Table {table} is not in this app.</p></main>;
  const names = form && form.columns.length > 0 ? form.columns : def.columns.filter((c) => !system.has(c.name) && c.name !== def.primaryKey).map((c) => c.name);
  const cols = names.map((n) => def.columns.find((c) => c.name === n)).filter((c): c is Column => !!c);
  const required = new Set([...(form?.required ?? []), ...cols.filter((c) => c.required).map((c) => c.name)]);
  const readOnlyCols = new Set(form?.readOnly ?? []);
  const sections = form && form.sections.length > 0 ? form.sections : [{ name: form?.name ?? label(table), columns: cols.map((c) => c.name) }];

  useEffect(() => {
    if (isNew) return;
    api.row(table, id).then(
      (r) => {
        setRow(r);
        const d: Draft = {};
        for (const c of cols) d[c.name] = toDraft(c, r[c.name]);
        setDraft(d);
      },
      (e: ApiError) => setMessage(e.message),
    );
  }, [table, id]);

  async function save(e: Event) {
    e.preventDefault();
    const values: Row = {};
    const errs: Record<string, string> = {};
    for (const c of cols) {
      if (isFile(c)) continue;
      const d = draft[c.name] ?? (c.type === "boolean" ? false : "");
      const r = fromDraft(c, d);
      if (r.error) errs[c.name] = r.error;
      else if (isNew ? r.value !== null : toDraft(c, row?.[c.name]) !== d) values[c.name] = r.value;
    }
    for (const c of cols) {
      if (isFile(c)) continue;
      const d = draft[c.name];
      if (c.maxLength > 0 && typeof d === "string" && d.length > c.maxLength) errs[c.name] = `${label(c.name)} takes at most ${c.maxLength} characters.`;
      if (required.has(c.name) && c.type !== "boolean" && (d === undefined || String(d).trim() === "") && !errs[c.name]) errs[c.name] = `${label(c.name)} is required.`;
    }
    setErrors(errs);
    if (Object.keys(errs).length > 0) return;
    setBusy(true);
    setMessage("");
    try {
      if (isNew) {
        const created = await api.createRow(table, values);
        go("form", table, created.id);
      } else {
        const r = await api.updateRow(table, id, values);
        setRow(r);
        setMessage("Saved on this device. It uploads when there is a connection.");
      }
    } catch (err) {
      const ae = err as ApiError;
      if (ae.target && cols.some((c) => c.name === ae.target)) setErrors({ [ae.target]: ae.message });
      else setMessage(ae.message);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!confirm("Delete this row? The deletion uploads when there is a connection.")) return;
    try {
      await api.deleteRow(table, id);
      history.back();
    } catch (err) {
      setMessage((err as ApiError).message);
    }
  }

  if (!row) return <main class="page" aria-busy="true"><p>{message || "Loading…"}</p></main>;
  const title = isNew ? `New ${label(table).toLowerCase()}` : String(row.name ?? label(table));
  return (
    <main class="page form-page">
      <p>
        <a href="#" onClick={(e) => (e.preventDefault(), history.back())}>
          ← Back
        </a>
      </p>
      <h1>{title}</h1>
      <form onSubmit={save} noValidate>
        {sections.map((sec) => (
        <fieldset class="section">
          <legend>{sec.name}</legend>
          {cols.filter((c) => sec.columns.includes(c.name)).map((c) => {
            const fid = `f-${c.name}`;
            const v = draft[c.name] ?? (c.type === "boolean" ? false : "");
            const set = (x: string | boolean) => setDraft({ ...draft, [c.name]: x });
            const readOnly = system.has(c.name) || readOnlyCols.has(c.name);
            let input;
            if (isFile(c)) input = <FileField table={table} id={id} col={c} row={row} readOnly={readOnly} onStored={setRow} />;
            else if (c.type === "boolean") input = <input id={fid} type="checkbox" checked={v === true} onChange={(e) => set(e.currentTarget.checked)} disabled={readOnly} />;
            else if (c.type === "memo") input = <textarea id={fid} rows={4} value={String(v)} onInput={(e) => set(e.currentTarget.value)} readOnly={readOnly} />;
            else if (c.type === "lookup" && c.target && app.tables.some((t) => t.name === c.target)) input = <LookupField id={fid} col={c} value={String(v)} onChange={set} readOnly={readOnly} />;
            else if (c.type === "choice" && c.options.length > 0)
              input = (
                <select id={fid} value={String(v)} onChange={(e) => set(e.currentTarget.value)} disabled={readOnly} aria-required={required.has(c.name)}>
                  <option value="">(none)</option>
                  {c.options.map((o) => (
                    <option value={String(o.value)}>{o.label}</option>
                  ))}
                </select>
              );
            else if (c.type === "datetime")
              input = <input id={fid} type="datetime-local" value={String(v)} onInput={(e) => set(e.currentTarget.value)} readOnly={readOnly} aria-invalid={!!errors[c.name]} />;
            else {
              const mode = ["integer", "choice"].includes(c.type) ? "numeric" : ["decimal", "money"].includes(c.type) ? "decimal" : undefined;
              input = <input id={fid} type="text" inputMode={mode} maxLength={c.maxLength > 0 ? c.maxLength : undefined} value={String(v)} onInput={(e) => set(e.currentTarget.value)} readOnly={readOnly} aria-invalid={!!errors[c.name]} aria-required={required.has(c.name)} />;
            }
            return (
              <div class={`field type-${c.type}`}>
                <label for={isFile(c) ? undefined : fid}>
                  {label(c.name)}
                  {required.has(c.name) && <span class="required" aria-label="required"> *</span>}
                </label>
                {input}
                {errors[c.name] && (
                  <p class="field-error" role="alert">
                    {errors[c.name]}
                  </p>
                )}
              </div>
            );
          })}
        </fieldset>
        ))}
        {message && <p class="banner" role="status">{message}</p>}
        <div class="actions">
          <button class="primary" type="submit" disabled={busy}>
            {busy ? "Saving…" : "Save"}
          </button>
          {!isNew && (
            <button type="button" class="danger" onClick={remove}>
              Delete
            </button>
          )}
        </div>
      </form>
      {!isNew &&
        relationsTo(app, table).map((rel, _, all) => <RelatedRows def={rel.def} col={rel.col} id={id} many={all.filter((o) => o.def.name === rel.def.name).length > 1} />)}
    </main>
  );
}
