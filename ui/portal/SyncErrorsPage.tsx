import { useEffect, useRef, useState } from "preact/hooks";
import { server, ServerError, type Table } from "../shared/server";
import { formatTime } from "../shared/format";
import { actions, errorTypes, ops, type SyncError, type SyncErrorFilter } from "./opsApi";

type User = { id: string; label: string };

/** SyncErrorsPage is the administrators' view of every user's Sync Errors:
 * filtered by user, table, type and state, with the detail (action data,
 * request data, the row it regards), Retry and Resolve. Other makers get
 * the API's refusal. */
export function SyncErrorsPage() {
  const [filter, setFilter] = useState<SyncErrorFilter>({ user: "", table: "", type: "", state: "0" });
  const [list, setList] = useState<SyncError[] | null>(null);
  const [error, setError] = useState<ServerError | null>(null);
  const [users, setUsers] = useState<User[]>([]);
  const [tables, setTables] = useState<Table[]>([]);
  const [open, setOpen] = useState<SyncError | null>(null);
  const load = (f = filter) => {
    setError(null);
    ops.syncErrors(f).then(setList, (e: ServerError) => { setList(null); setError(e); });
  };
  useEffect(() => {
    load();
    server.users().then((rows) => setUsers(rows.map((u) => ({ id: String(u.systemuserid), label: `${u.fullname} (${u.domainname})` }))), () => setUsers([]));
    server.tables().then((t) => setTables(t.filter((x) => x.offline)), () => setTables([]));
  }, []);
  const set = (k: keyof SyncErrorFilter, v: string) => {
    const f = { ...filter, [k]: v };
    setFilter(f);
    load(f);
  };
  const userName = (id: string) => users.find((u) => u.id === id)?.label ?? id;
  const replace = (se: SyncError) => {
    setOpen(se);
    setList((l) => l?.map((x) => (x.syncerrorid === se.syncerrorid ? se : x)) ?? null);
  };
  if (error?.status === 403)
    return (
      <main class="page narrow refusal">
        <h1>Sync errors</h1>
        <p class="notice" role="alert">{error.message}. Sync errors of every user are for administrators (System Administrator).</p>
      </main>
    );
  const select = (k: keyof SyncErrorFilter, label: string, opts: [string, string][]) => (
    <div><label for={"se-" + k}>{label}</label>
      <select id={"se-" + k} value={filter[k]} onChange={(e) => set(k, e.currentTarget.value)}
        aria-invalid={error?.target === k ? "true" : undefined} aria-describedby={error?.target === k ? "se-error" : undefined}>
        {opts.map(([v, l]) => <option value={v}>{l}</option>)}
      </select></div>
  );
  return (
    <main class="page">
      <h1>Sync errors</h1>
      <p class="muted">Changes from devices that the server refused, for every user. Retry applies the change again as its user; Resolve closes the error without applying it.</p>
      <form class="inline-form filters" aria-label="Filter sync errors" onSubmit={(e) => { e.preventDefault(); load(); }}>
        {select("user", "User", [["", "Every user"], ...users.map((u): [string, string] => [u.id, u.label])])}
        {select("table", "Table", [["", "Every table"], ...tables.map((t): [string, string] => [t.name, t.displayName || t.name])])}
        {select("type", "Type", [["", "Every type"], ...Object.entries(errorTypes)])}
        {select("state", "State", [["", "Active and resolved"], ["0", "Active"], ["1", "Resolved"]])}
        <div><button type="submit">Refresh</button></div>
      </form>
      {error && <p id="se-error" class="field-error" role="alert">{error.message}</p>}
      {list && (list.length === 0 ? <p class="empty">No sync errors match.</p> : (
        <table class="rows stack sync-errors">
          <thead><tr><th scope="col">Error</th><th scope="col">User</th><th scope="col">Table</th><th scope="col">Type</th><th scope="col">When</th><th scope="col">State</th></tr></thead>
          <tbody>
            {list.map((se) => (
              <tr data-id={se.syncerrorid} aria-selected={open?.syncerrorid === se.syncerrorid ? "true" : undefined}>
                <td><button class="link open-error" onClick={() => setOpen(se)}>{se.errormessage || se.name}</button></td>
                <td data-label="User">{userName(se.ownerid)}</td>
                <td data-label="Table">{se.entityname}</td>
                <td data-label="Type">{errorTypes[se.errortype] ?? se.errortype}</td>
                <td data-label="When">{formatTime(se.errortime)}</td>
                <td data-label="State">{se.statecode === 0 ? "Active" : "Resolved"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {open && <ErrorDetail se={open} nameOf={userName} onChange={replace} onClose={() => setOpen(null)} />}
    </main>
  );
}

/** pretty shows a JSON text indented; other text as it is. */
function pretty(s: string | undefined): string {
  if (!s) return "—";
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}

function ErrorDetail({ se, nameOf, onChange, onClose }: { se: SyncError; nameOf: (id: string) => string; onChange: (s: SyncError) => void; onClose: () => void }) {
  const [row, setRow] = useState<Record<string, unknown> | null>(null);
  const [rowError, setRowError] = useState("");
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  // Focus goes to the heading when an error opens, not on every render: a
  // list refreshed behind the detail must not move focus or scroll the page.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [se.syncerrorid]);
  useEffect(() => {
    setRow(null);
    setRowError("");
    setError("");
    setDone("");
    if (se.entityname && se.regardingobjectid)
      ops.row(se.entityname, se.regardingobjectid).then(setRow, (e: ServerError) => setRowError(e.message));
  }, [se.syncerrorid]);
  const act = async (what: "retry" | "resolve") => {
    setError("");
    setDone("");
    try {
      const next = await ops[what](se.syncerrorid);
      onChange(next);
      setDone(what === "retry" ? "Retried: the change was applied and the error resolved." : "Resolved without applying the change.");
    } catch (x) {
      setError((x as ServerError).message);
    }
  };
  return (
    <section class="panel error-detail" aria-labelledby="se-detail-h">
      <h2 id="se-detail-h" tabIndex={-1} ref={heading}>{se.name}</h2>
      <dl class="facts">
        <dt>Message</dt><dd>{se.errormessage}</dd>
        <dt>Code</dt><dd><code>{se.errorcode}</code></dd>
        <dt>Type</dt><dd>{errorTypes[se.errortype] ?? se.errortype}</dd>
        <dt>Action</dt><dd>{actions[se.action] ?? se.action} of {se.entityname}</dd>
        <dt>User</dt><dd>{nameOf(se.ownerid)}</dd>
        <dt>When</dt><dd>{new Date(se.errortime).toLocaleString("en")}</dd>
        <dt>State</dt><dd class="state">{se.statecode === 0 ? "Active" : "Resolved"}{se.modifiedby ? ` (last changed by ${nameOf(se.modifiedby)})` : ""}</dd>
      </dl>
      <h3>Action data</h3>
      <pre class="sql action-data">{pretty(se.actiondata)}</pre>
      <h3>Request data</h3>
      <pre class="sql request-data">{pretty(se.requestdata)}</pre>
      <h3>The row it regards <small class="muted"><code>{se.entityname}({se.regardingobjectid})</code></small></h3>
      {rowError ? <p class="muted regarding-error">{rowError}</p> : row ? <pre class="sql regarding-row">{JSON.stringify(row, null, 2)}</pre> : <p class="muted">Loading…</p>}
      {error && <p class="field-error" role="alert">{error}</p>}
      {done && <p class="banner" role="status">{done}</p>}
      <div class="actions">
        <button class="primary retry" disabled={se.statecode !== 0} onClick={() => act("retry")}>Retry</button>
        <button class="resolve" disabled={se.statecode !== 0} onClick={() => act("resolve")}>Resolve</button>
        <button onClick={onClose}>Close</button>
      </div>
    </section>
  );
}
