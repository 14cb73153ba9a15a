// The expression builder of a Custom rule: a tree editor of the filter
// language's JSON condition tree (docs/filters.md). It offers, per column,
// the operators the server lists for it (GET …/tables/{t}/operators, the
// filter package's own rule) with a value editor for each, and/or groups,
// negation, and links to related tables up to three levels deep through the
// table's relationships. The text form comes from the server (the item
// check in a profile, POST …/tables/{t}/filter in an app's view), so text
// and tree are printed and parsed in one place.
import { useEffect, useState } from "preact/hooks";
import { server, type Relationship, type Table } from "../shared/server";
import { profileApi, type ColumnOperators } from "./profileApi";

/** maxLinkDepth is how deep links may nest in a profile's filter. */
export const maxLinkDepth = 3;

export type Node =
  | { and: Node[] }
  | { or: Node[] }
  | { not: Node }
  | { link: string; filter?: Node }
  | { column: string; operator: string; value?: unknown; values?: unknown[] };

type Info = { rels: Relationship[]; ops: ColumnOperators };
const cache = new Map<string, Promise<Info>>();

function tableInfo(table: string): Promise<Info> {
  let p = cache.get(table);
  if (!p) {
    p = Promise.all([server.relationships(table), profileApi.operators(table)]).then(([rels, ops]) => ({ rels, ops }));
    p.catch(() => cache.delete(table));
    cache.set(table, p);
  }
  return p;
}

function useInfo(table: string): Info | null {
  const [info, setInfo] = useState<Info | null>(null);
  useEffect(() => {
    let live = true;
    tableInfo(table).then((i) => live && setInfo(i), () => live && setInfo({ rels: [], ops: [] }));
    return () => void (live = false);
  }, [table]);
  return info;
}

/** asGroup shows any tree as a group at the top. */
function asGroup(n: Node | null | undefined): { and: Node[] } | { or: Node[] } {
  if (!n) return { and: [] };
  if ("and" in n || "or" in n) return n;
  return { and: [n] };
}

type Ctx = { tables: Map<string, Table>; idPrefix: string };

/** FilterBuilder edits a filter on table; onChange gets the new tree.
 * idPrefix starts its controls' ids (default "fb"), for a page with several. */
export function FilterBuilder(props: { table: string; tables: Map<string, Table>; value: Node | null; onChange: (n: Node) => void; idPrefix?: string }) {
  const path = props.idPrefix ?? "fb";
  const ctx: Ctx = { tables: props.tables, idPrefix: path };
  return (
    <div class="filter-builder" role="group" aria-label="Expression builder">
      <GroupEditor ctx={ctx} table={props.table} depth={0} path={path} node={asGroup(props.value)} onChange={props.onChange} />
    </div>
  );
}

function GroupEditor(props: { ctx: Ctx; table: string; depth: number; path: string; node: { and: Node[] } | { or: Node[] }; onChange: (n: Node) => void; onRemove?: () => void }) {
  const { node, path } = props;
  const kind = "and" in node ? "and" : "or";
  const list = "and" in node ? node.and : node.or;
  const info = useInfo(props.table);
  const set = (l: Node[]) => props.onChange(kind === "and" ? { and: l } : { or: l });
  const firstColumn = () => {
    const t = props.ctx.tables.get(props.table);
    const c = t?.columns.find((x) => x.name === t.primaryName) ?? t?.columns[0];
    const op = info?.ops.find((o) => o.column === c?.name)?.operators.find((o) => o.name === "eq");
    return { column: c?.name ?? "", operator: op?.name ?? "eq", value: "" } as Node;
  };
  const firstLink = () => ({ link: info?.rels[0]?.name ?? "" }) as Node;
  return (
    <fieldset class="fb-group" data-path={path}>
      <legend class="fb-legend">
        <label for={path + "-kind"}>{props.depth ? "Rows of the related table where" : "Rows where"}</label>{" "}
        <select id={path + "-kind"} class="fb-kind" value={kind} onChange={(e) => props.onChange(e.currentTarget.value === "and" ? { and: list } : { or: list })}>
          <option value="and">all of these are true (and)</option>
          <option value="or">any of these is true (or)</option>
        </select>
      </legend>
      {list.length === 0 && <p class="muted">No conditions yet: every row matches.</p>}
      <ul class="fb-list">
        {list.map((child, i) => (
          <li>
            <NodeEditor ctx={props.ctx} table={props.table} depth={props.depth} path={`${path}-${i}`} node={child} info={info}
              onChange={(n) => set(list.map((x, j) => (j === i ? n : x)))} onRemove={() => set(list.filter((_, j) => j !== i))} />
          </li>
        ))}
      </ul>
      <div class="fb-actions">
        <button type="button" class="fb-add-condition" onClick={() => set([...list, firstColumn()])}>Add condition</button>
        <button type="button" class="fb-add-group" onClick={() => set([...list, kind === "and" ? { or: [] } : { and: [] }])}>Add group</button>
        <button type="button" class="fb-add-link" disabled={props.depth >= maxLinkDepth || !info?.rels.length}
          title={props.depth >= maxLinkDepth ? `Links nest at most ${maxLinkDepth} levels deep` : undefined}
          onClick={() => set([...list, firstLink()])}>Add related table</button>
        {props.onRemove && <button type="button" class="danger fb-remove" onClick={props.onRemove}>Remove group</button>}
      </div>
    </fieldset>
  );
}

function NodeEditor(props: { ctx: Ctx; table: string; depth: number; path: string; node: Node; info: Info | null; onChange: (n: Node) => void; onRemove: () => void }) {
  const { node } = props;
  if ("and" in node || "or" in node) return <GroupEditor {...props} node={node} />;
  if ("not" in node) {
    return (
      <div class="fb-not">
        <label class="choice"><input type="checkbox" checked onChange={() => props.onChange(node.not)} /> Not</label>
        <NodeEditor {...props} path={props.path + "-not"} node={node.not} onChange={(n) => props.onChange({ not: n })} />
      </div>
    );
  }
  if ("link" in node) return <LinkEditor {...props} node={node} />;
  return <ConditionEditor {...props} node={node} />;
}

function LinkEditor(props: { ctx: Ctx; table: string; depth: number; path: string; node: { link: string; filter?: Node }; info: Info | null; onChange: (n: Node) => void; onRemove: () => void }) {
  const { node, path, info } = props;
  const rel = info?.rels.find((r) => r.name === node.link);
  const set = (filter: Node) => {
    const g = asGroup(filter);
    const empty = ("and" in g ? g.and : g.or).length === 0;
    props.onChange(empty ? { link: node.link } : { link: node.link, filter });
  };
  return (
    <div class="fb-link" data-path={path}>
      <div class="fb-row">
        <label for={path + "-rel"}>Related table through</label>
        <select id={path + "-rel"} class="fb-rel" value={node.link} onChange={(e) => props.onChange({ link: e.currentTarget.value })}>
          {!rel && <option value={node.link}>{node.link || "Choose…"}</option>}
          {info?.rels.map((r) => <option value={r.name}>{r.name} ({r.kind} {r.related})</option>)}
        </select>
        <button type="button" class="danger fb-remove" onClick={props.onRemove} aria-label={`Remove the link ${node.link}`}>Remove</button>
      </div>
      <p class="muted">{rel ? (rel.kind === "N:1" ? `The ${rel.related} row it refers to matches:` : `Some related ${rel.related} row matches:`) : ""}</p>
      {rel && <GroupEditor ctx={props.ctx} table={rel.related} depth={props.depth + 1} path={path + "-f"} node={asGroup(node.filter)} onChange={set} />}
    </div>
  );
}

type Cond = { column: string; operator: string; value?: unknown; values?: unknown[] };

function ConditionEditor(props: { ctx: Ctx; table: string; path: string; node: Cond; info: Info | null; onChange: (n: Node) => void; onRemove: () => void }) {
  const { node, path, info } = props;
  const t = props.ctx.tables.get(props.table);
  const col = t?.columns.find((c) => c.name === node.column);
  const ops = info?.ops.find((o) => o.column === node.column)?.operators ?? [];
  const op = ops.find((o) => o.name === node.operator);
  const arity = op?.values ?? ("values" in node ? "many" : "value" in node ? "one" : "none");
  const columns = (t?.columns ?? []).filter((c) => c.type !== "file" && c.type !== "image");
  const change = (column: string, operator: string, keep: boolean) => {
    const a = info?.ops.find((o) => o.column === column)?.operators.find((o) => o.name === operator)?.values ?? "one";
    const n: Cond = { column, operator };
    if (a === "one") n.value = keep && "value" in node ? node.value : "";
    if (a === "many") n.values = keep && node.values ? node.values : [];
    props.onChange(n);
  };
  return (
    <div class={"fb-cond" + (arity === "none" ? " no-value" : "")} data-path={path}>
      <label class="visually-hidden" for={path + "-col"}>Column</label>
      <select id={path + "-col"} class="fb-col" value={node.column} onChange={(e) => {
        const c = e.currentTarget.value;
        const list = info?.ops.find((o) => o.column === c)?.operators ?? [];
        change(c, list.some((o) => o.name === node.operator) ? node.operator : list[0]?.name ?? "eq", false);
      }}>
        {!col && <option value={node.column}>{node.column || "Choose…"}</option>}
        {columns.map((c) => <option value={c.name}>{c.displayName || c.name}</option>)}
      </select>
      <label class="visually-hidden" for={path + "-op"}>Operator</label>
      <select id={path + "-op"} class="fb-op" value={node.operator} onChange={(e) => change(node.column, e.currentTarget.value, true)}>
        {!op && <option value={node.operator}>{node.operator}</option>}
        {ops.map((o) => <option value={o.name}>{opLabels[o.name] ?? o.name}</option>)}
      </select>
      {arity !== "none" && <ValueEditor id={path + "-val"} type={col?.type ?? "text"} options={col?.options} operator={node.operator} many={arity === "many"}
        value={arity === "many" ? node.values ?? [] : node.value}
        onChange={(v) => props.onChange(arity === "many" ? { column: node.column, operator: node.operator, values: v as unknown[] } : { column: node.column, operator: node.operator, value: v })} />}
      <button type="button" class="danger fb-remove" onClick={props.onRemove} aria-label={`Remove the condition on ${node.column}`}>Remove</button>
    </div>
  );
}

const dateOnlyOps = new Set(["on", "on-or-before", "on-or-after"]);

/** opLabels names the operators in words; the operator list itself comes from the server. */
const opLabels: Record<string, string> = {
  eq: "equals", ne: "does not equal", gt: "is greater than", ge: "is greater than or equal to", lt: "is less than", le: "is less than or equal to",
  like: "is like", "not-like": "is not like", "begins-with": "begins with", "not-begin-with": "does not begin with", "ends-with": "ends with",
  "not-end-with": "does not end with", contains: "contains", in: "is one of", "not-in": "is none of", null: "has no value", "not-null": "has a value",
  "eq-userid": "is the current user", "ne-userid": "is not the current user", "eq-userteams": "is one of the current user's teams",
  "eq-useroruserteams": "is the current user or their teams", "eq-useroruserhierarchy": "is the current user or their reports",
  "eq-useroruserhierarchyandteams": "is the current user, their reports or their teams", "eq-businessid": "is the current user's business unit",
  "ne-businessid": "is not the current user's business unit", "eq-sharedwithuser": "is shared with the current user",
  today: "is today", yesterday: "is yesterday", tomorrow: "is tomorrow", "last-x-days": "in the last N days", "next-x-days": "in the next N days",
  "last-x-weeks": "in the last N weeks", "next-x-weeks": "in the next N weeks", "last-x-months": "in the last N months", "next-x-months": "in the next N months",
  "last-x-years": "in the last N years", "next-x-years": "in the next N years", "this-week": "is this week", "last-week": "is last week", "next-week": "is next week",
  "this-month": "is this month", "last-month": "is last month", "next-month": "is next month", "this-year": "is this year", "last-year": "is last year",
  "next-year": "is next year", on: "is on", "on-or-before": "is on or before", "on-or-after": "is on or after",
};

/** ValueEditor edits a condition's value as the column's type and the
 * operator want it: numbers, a yes/no, a choice's options, a date, a count
 * of days/weeks/months/years, a UTC datetime, or text; in/not-in take a list. */
function ValueEditor(props: { id: string; type: string; options?: { value: number; label: string }[]; operator: string; many: boolean; value: unknown; onChange: (v: unknown) => void }) {
  const { id, type, operator } = props;
  const label = <label class="visually-hidden" for={id}>Value</label>;
  const numeric = ["integer", "decimal", "money"].includes(type);
  if (props.many) {
    const list = (props.value as unknown[]) ?? [];
    if (type === "choice" && props.options?.length) {
      return <>{label}<select id={id} class="fb-val" multiple
        onChange={(e) => props.onChange([...e.currentTarget.selectedOptions].map((o) => Number(o.value)))}>
        {props.options.map((o) => <option value={String(o.value)} selected={list.map(String).includes(String(o.value))}>{o.label}</option>)}
      </select></>;
    }
    return <>{label}<input id={id} class="fb-val" placeholder="values, separated by commas" value={list.join(", ")}
      onChange={(e) => props.onChange(e.currentTarget.value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => (numeric || type === "choice" ? Number(s) : s)))} /></>;
  }
  const v = props.value;
  if (type === "datetime" && /-x-/.test(operator)) {
    return <>{label}<input id={id} class="fb-val" type="number" min={1} step={1} value={v === "" || v == null ? "" : String(v)}
      onInput={(e) => props.onChange(e.currentTarget.value === "" ? "" : Number(e.currentTarget.value))} /></>;
  }
  if (type === "datetime" && dateOnlyOps.has(operator)) {
    return <>{label}<input id={id} class="fb-val" type="date" value={typeof v === "string" ? v.slice(0, 10) : ""} onInput={(e) => props.onChange(e.currentTarget.value)} /></>;
  }
  if (type === "datetime") {
    const local = typeof v === "string" && v.length >= 16 ? v.slice(0, 16) : "";
    return <>{label}<input id={id} class="fb-val" type="datetime-local" value={local} title="UTC"
      onInput={(e) => props.onChange(e.currentTarget.value ? e.currentTarget.value + ":00Z" : "")} /></>;
  }
  if (type === "boolean") {
    return <>{label}<select id={id} class="fb-val" value={String(v === true)} onChange={(e) => props.onChange(e.currentTarget.value === "true")}>
      <option value="true">Yes</option><option value="false">No</option></select></>;
  }
  if (type === "choice" && props.options?.length) {
    return <>{label}<select id={id} class="fb-val" value={v == null ? "" : String(v)} onChange={(e) => props.onChange(Number(e.currentTarget.value))}>
      <option value="">Choose…</option>
      {props.options.map((o) => <option value={String(o.value)}>{o.label}</option>)}</select></>;
  }
  if (numeric || type === "choice") {
    return <>{label}<input id={id} class="fb-val" type="number" step="any" value={v === "" || v == null ? "" : String(v)}
      onInput={(e) => props.onChange(e.currentTarget.value === "" ? "" : Number(e.currentTarget.value))} /></>;
  }
  return <>{label}<input id={id} class="fb-val" value={v == null ? "" : String(v)} onInput={(e) => props.onChange(e.currentTarget.value)} /></>;
}
