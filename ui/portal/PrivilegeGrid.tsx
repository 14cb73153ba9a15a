import { useEffect, useRef, useState } from "preact/hooks";
import type { ServerError, Table } from "../shared/server";
import { depthLabels, privileges, sec, type Depth, type Grant } from "./securityApi";

type Cells = Record<string, Depth>; // "table.privilege" → depth

/** depthsFor is the cycle of depths a table takes: organization-owned (and
 * unowned) tables only none or organization, the others all five. */
export function depthsFor(t: Table): Depth[] {
  return t.ownership === "organization" || t.ownership === "none" ? [0, 4] : [0, 1, 2, 3, 4];
}

function cellsOf(grants: Grant[], admin: boolean, tables: Table[]): Cells {
  const c: Cells = {};
  if (admin) for (const t of tables) for (const p of privileges) c[t.name + "." + p.key] = 4;
  for (const g of grants) c[g.table + "." + g.privilege] = g.depth;
  return c;
}

/** DepthMark draws a depth as Dataverse's role editor does: a circle filled
 * by a quarter per level, from empty (none) to full (organization). */
function DepthMark({ depth }: { depth: Depth }) {
  return <span class={"depth d" + depth} aria-hidden="true" />;
}

/** PrivilegeGrid is the role editor: tables × the eight privileges, each
 * cell cycling through the depths the table accepts. One tab stop; the
 * arrow keys, Home and End move between cells, Enter or Space cycles one.
 * editable false shows the grid read-only (predefined roles, or a caller
 * who may not change privileges), with the reason. */
export function PrivilegeGrid({ roleId, roleName, tables, editable, readOnlyReason }: {
  roleId: string; roleName: string; tables: Table[]; editable: boolean; readOnlyReason: string;
}) {
  const [cells, setCells] = useState<Cells | null>(null);
  const [saved, setSaved] = useState<Cells>({});
  const [predefined, setPredefined] = useState(false);
  const [loadError, setLoadError] = useState("");
  const [error, setError] = useState<{ message: string; cell: string } | null>(null);
  const [status, setStatus] = useState("");
  const [focus, setFocus] = useState<[number, number]>([0, 0]);
  const grid = useRef<HTMLTableElement>(null);

  useEffect(() => {
    setCells(null);
    setLoadError("");
    sec.roleGrants(roleId).then(
      (r) => {
        const c = cellsOf(r.value, r.admin, tables);
        setCells(c);
        setSaved(c);
        setPredefined(r.predefined);
      },
      (e: ServerError) => setLoadError(e.message),
    );
  }, [roleId, tables]);

  if (loadError) return <p class="field-error" role="alert">{loadError}</p>;
  if (!cells) return <p aria-busy="true">Loading privileges…</p>;
  const canEdit = editable && !predefined;
  const why = predefined ? `${roleName} is a predefined role: its privileges cannot be changed. Create a new role to grant other privileges.` : readOnlyReason;
  const dirty = Object.keys({ ...cells, ...saved }).some((k) => (cells[k] ?? 0) !== (saved[k] ?? 0));

  const cycle = (t: Table, key: string) => {
    const ds = depthsFor(t);
    const now = cells[key] ?? 0;
    const next = ds[(ds.indexOf(now) + 1) % ds.length] ?? 0;
    setCells({ ...cells, [key]: next });
    setStatus("");
  };
  const move = (e: KeyboardEvent) => {
    const [r, c] = focus;
    const last = [tables.length - 1, privileges.length - 1];
    const to: Record<string, [number, number]> = {
      ArrowUp: [Math.max(0, r - 1), c], ArrowDown: [Math.min(last[0], r + 1), c],
      ArrowLeft: [r, Math.max(0, c - 1)], ArrowRight: [r, Math.min(last[1], c + 1)],
      Home: [r, 0], End: [r, last[1]],
    };
    const n = to[e.key];
    if (!n) return;
    e.preventDefault();
    setFocus(n);
    grid.current?.querySelector<HTMLElement>(`[data-cell="${n[0]}-${n[1]}"]`)?.focus();
  };
  const save = async () => {
    setError(null);
    setStatus("");
    const grants: Grant[] = [];
    for (const t of tables) for (const p of privileges) {
      const d = cells[t.name + "." + p.key] ?? 0;
      if (d > 0) grants.push({ table: t.name, privilege: p.key, depth: d });
    }
    try {
      await sec.setRoleGrants(roleId, grants);
      setSaved(cells);
      setStatus(`Saved the privileges of ${roleName}.`);
    } catch (x) {
      const e = x as ServerError;
      const i = /^privileges\[(\d+)\]/.exec(e.target)?.[1];
      const g = i !== undefined ? grants[Number(i)] : undefined;
      setError({ message: e.message, cell: g ? g.table + "." + g.privilege : "" });
    }
  };

  return (
    <section class="privileges" aria-labelledby="grid-title">
      <h2 id="grid-title">Privileges of {roleName}</h2>
      {!canEdit && <p class="banner" role="note">{why}</p>}
      <p class="depth-legend" aria-label="Depths">
        {depthLabels.map((l, d) => <span><DepthMark depth={d as Depth} /> {l}</span>)}
      </p>
      {canEdit && (
        <div class="actions">
          <button type="button" class="primary save-privileges" onClick={save} aria-describedby={error ? "grid-error" : undefined}>Save privileges</button>
          {dirty && <span class="muted">Unsaved changes</span>}
        </div>
      )}
      {error && <p id="grid-error" class="field-error" role="alert">{error.message}</p>}
      {status && <p class="banner" role="status">{status}</p>}
      <div class="grid-wrap">
        <table class="rows privilege-grid" ref={grid} role={canEdit ? "grid" : undefined} aria-labelledby="grid-title" onKeyDown={canEdit ? move : undefined}>
          <thead>
            <tr><th scope="col">Table</th>{privileges.map((p) => <th scope="col">{p.label}</th>)}</tr>
          </thead>
          <tbody>
            {tables.map((t, r) => (
              <tr>
                <th scope="row">{t.displayName || t.name}{depthsFor(t).length === 2 && <small class="muted org-only">none or organization</small>}</th>
                {privileges.map((p, c) => {
                  const key = t.name + "." + p.key;
                  const d = (cells[key] ?? 0) as Depth;
                  const label = `${t.displayName || t.name}, ${p.label}: ${depthLabels[d]}`;
                  const bad = error?.cell === key;
                  return (
                    <td data-label={p.label} class={bad ? "bad" : undefined}>
                      {canEdit ? (
                        <button type="button" class="cell" data-cell={`${r}-${c}`} data-key={key} data-depth={d}
                          tabIndex={focus[0] === r && focus[1] === c ? 0 : -1} aria-label={label}
                          aria-invalid={bad ? "true" : undefined} aria-describedby={bad ? "grid-error" : undefined}
                          onFocus={() => setFocus([r, c])} onClick={() => cycle(t, key)}>
                          <DepthMark depth={d} />
                        </button>
                      ) : (
                        <span class="cell" role="img" data-key={key} data-depth={d} aria-label={label} title={depthLabels[d]}><DepthMark depth={d} /></span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
