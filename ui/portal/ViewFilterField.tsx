/**
 * ViewFilterField edits a view's filter with the offline profile editor's
 * expression builder and, below it, the same filter as OData $filter text;
 * either may be edited. Tree and text are kept in step by the server
 * (POST /api/metadata/tables/{table}/filter, 250 ms after the last change,
 * as the profile editor asks its item check), so the portal holds no copy
 * of the parser or the printer: edit the tree and the text is replaced by
 * the server's printing; edit the text and the tree is rebuilt from the
 * server's parse. The server's error for the form edited last shows at the
 * field while typing; the app's save error (props.error) wins over it until
 * the filter is edited again.
 *
 * The contract with the Apps pages: the table, the filter as text (and its
 * tree when the app was read), the save error, and onChange with the new
 * text and, when the tree was edited, the tree: the view is saved with its
 * text when it has one, else with the tree (the server takes either).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { server, ServerError, type Table } from "../shared/server";
import { FilterBuilder, type Node } from "./FilterBuilder";
import { appsApi } from "./appsApi";

/** checkDelay is how long the field waits after a change before asking the server. */
const checkDelay = 250;

let tablesOnce: Promise<Map<string, Table>> | null = null;

/** allTables is every table by name, fetched once: the builder names the
 * columns of related tables too. */
function allTables(): Promise<Map<string, Table>> {
  if (!tablesOnce) {
    tablesOnce = server.tables().then((l) => new Map(l.map((t) => [t.name, t])));
    tablesOnce.catch(() => (tablesOnce = null));
  }
  return tablesOnce;
}

/** isEmpty says whether n filters nothing: no tree, or a group without conditions. */
function isEmpty(n: Node | null): boolean {
  if (!n) return true;
  if ("and" in n) return n.and.length === 0;
  if ("or" in n) return n.or.length === 0;
  return false;
}

type Pending = { filterText: string } | { filter: Node };

export function ViewFilterField(props: {
  id: string; table: string; value: string; tree?: unknown; error?: string;
  onChange: (text: string, tree?: unknown) => void;
}) {
  const errId = props.id + "-error";
  const [tables, setTables] = useState<Map<string, Table> | null>(null);
  const [text, setText] = useState(props.value);
  const [tree, setTree] = useState<Node | null>((props.tree as Node | undefined) ?? null);
  const [live, setLive] = useState("");
  // The save error stands until the maker edits the filter; then the live
  // check speaks for it.
  const [editedAfter, setEditedAfter] = useState<string | undefined>(undefined);
  const [pending, setPending] = useState<Pending | null>(props.value.trim() && !props.tree ? { filterText: props.value } : null);
  // What this field last told the page, to tell its own changes coming
  // back through props from a change made outside (another table).
  const emitted = useRef(props.table + "\n" + props.value);

  useEffect(() => {
    allTables().then(setTables, () => setTables(new Map()));
  }, []);

  useEffect(() => {
    const key = props.table + "\n" + props.value;
    if (key === emitted.current) return;
    emitted.current = key;
    setText(props.value);
    setTree((props.tree as Node | undefined) ?? null);
    setLive("");
    setPending(props.value.trim() ? { filterText: props.value } : null);
  }, [props.table, props.value]);

  // The server's answer comes after renders: it goes to the page's latest onChange.
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;
  const emit = (t: string, n?: unknown) => {
    emitted.current = props.table + "\n" + t;
    onChange.current(t, n);
  };

  useEffect(() => {
    if (!pending) return;
    let current = true;
    const table = props.table;
    const timer = setTimeout(async () => {
      try {
        const r = await appsApi.filter(table, pending);
        if (!current) return;
        setLive("");
        if ("filter" in pending) {
          setText(r.filterText);
          emit(r.filterText, r.filter ?? undefined);
        } else {
          setTree((r.filter as Node | null) ?? null);
        }
      } catch (e) {
        if (current) setLive(e instanceof ServerError ? e.message : String(e));
      }
    }, checkDelay);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [pending]);

  const onTree = (n: Node) => {
    setEditedAfter(props.error);
    setTree(n);
    if (isEmpty(n)) {
      setText("");
      setLive("");
      setPending(null);
      emit("", undefined);
      return;
    }
    emit("", n);
    setPending({ filter: n });
  };
  const onText = (t: string) => {
    setEditedAfter(props.error);
    setText(t);
    emit(t, undefined);
    if (t.trim()) return setPending({ filterText: t });
    setTree(null);
    setLive("");
    setPending(null);
  };

  const error = (props.error && props.error !== editedAfter ? props.error : "") || live;
  return (
    <div class="view-filter">
      <p class="view-filter-label"><strong>Filter</strong> <small>the rows of {props.table} the view lists; no conditions shows every row</small></p>
      {tables ? <FilterBuilder idPrefix={props.id + "-fb"} table={props.table} tables={tables} value={tree} onChange={onTree} /> : <p class="muted" aria-busy="true">Loading…</p>}
      <label for={props.id}>The same filter as text <small>OData $filter, e.g. <code>completed eq false</code>; edit either one</small></label>
      <textarea id={props.id} name="viewFilter" rows={2} value={text} aria-invalid={error ? "true" : undefined} aria-describedby={error ? errId : undefined}
        onInput={(e) => onText(e.currentTarget.value)} />
      {error && <p id={errId} class="field-error filter-error" role="alert">{error}</p>}
    </div>
  );
}
