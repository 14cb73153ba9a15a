// The host API of a canvas app: the script the device agent adds to a
// canvas app's index.html. It runs in the app's sandboxed frame and talks
// to the player by postMessage; the app uses window.Outpost (documented in
// docs/player.md).
import { render } from "preact";
import type { SyncState } from "../shared/api";
import { SyncButton, stateLabel } from "../shared/SyncIcon";
import type { Call, HostError, ListQuery, ToFrame, ToPlayer } from "./protocol";
import css from "./template.css";

/** OutpostError is a refusal from the device: what, where. */
class OutpostError extends Error {
  status: number;
  code: string;
  target: string;
  constructor(e: HostError) {
    super(e.message);
    this.name = "OutpostError";
    this.status = e.status;
    this.code = e.code;
    this.target = e.target;
  }
}

const ConnectionSync: Record<SyncState, SyncState> = {
  Connected: "Connected",
  ConnectedWithWarning: "ConnectedWithWarning",
  ConnectedPendingUpsync: "ConnectedPendingUpsync",
  ConnectedError: "ConnectedError",
  ConnectedRefresh: "ConnectedRefresh",
  NotConnected: "NotConnected",
  NotConnectedWithWarning: "NotConnectedWithWarning",
  NotConnectedPendingUpsync: "NotConnectedPendingUpsync",
  NotConnectedSyncError: "NotConnectedSyncError",
};

const HostInfo = { OfflineSync: "OfflineSync" } as const;

type Listener = (sync: SyncState) => void;

let nextId = 1;
const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
const listeners = new Set<Listener>();
let resolveReady: () => void;
const ready = new Promise<void>((r) => (resolveReady = r));

const Host = { OfflineEnabled: false, AppName: "" };
const Connection = {
  Sync: "NotConnected" as SyncState,
  /** onChange calls fn with every new Connection.Sync; it returns a function that stops it. */
  onChange(fn: Listener): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

function send(m: ToPlayer) {
  // The frame's own origin is opaque; the player checks the message's source.
  parent.postMessage(m, "*");
}

function call<T>(m: Omit<Call, "outpost" | "id">): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    send({ outpost: "call", id, ...m } as Call);
  });
}

const Tables = {
  /** list answers a page: {rows, total, …}, as the player's views get it. */
  list: (table: string, query: ListQuery = {}) => call<any>({ op: "list", table, query }),
  get: (table: string, id: string) => call<Record<string, unknown>>({ op: "get", table, rowId: id }),
  create: (table: string, values: Record<string, unknown>) => call<{ id: string }>({ op: "create", table, values }),
  update: (table: string, id: string, values: Record<string, unknown>) => call<Record<string, unknown>>({ op: "update", table, rowId: id, values }),
  remove: (table: string, id: string) => call<void>({ op: "delete", table, rowId: id }),
};

type StoredFile = { name: string; type: string; size: number; blob: Blob };

// Files and images of a row's file and image columns: stored on the
// device at once and uploaded with the next sync, as a form's.
const Files = {
  /** get reads a row's file: {name, type, size, blob}. */
  get: (table: string, id: string, column: string) => call<StoredFile>({ op: "getFile", table, rowId: id, column }),
  /** url reads a row's file into an object URL of this frame (for <img src>); URL.revokeObjectURL frees it. */
  url: async (table: string, id: string, column: string) => URL.createObjectURL((await Files.get(table, id, column)).blob),
  /** put attaches or replaces a row's file (a File from an input or the camera, or a Blob and its name); the row as stored. */
  put: (table: string, id: string, column: string, file: Blob, name?: string) =>
    call<Record<string, unknown>>({ op: "putFile", table, rowId: id, column, file, name: name ?? (file instanceof File ? file.name : "") }),
  /** remove clears a row's file; the row as stored. */
  remove: (table: string, id: string, column: string) => call<Record<string, unknown>>({ op: "removeFile", table, rowId: id, column }),
};

/** ShowHostInfo(HostInfo.OfflineSync) opens the player's Device status page. */
function ShowHostInfo(info: string): Promise<void> {
  return call<void>({ op: "showHostInfo", info });
}

// The Offline template: a bar with the globe icon, which the player puts
// at the top of the app when its offline switch is on (unless the app
// places its own <outpost-offline> element).
function drawTemplates() {
  if (!Host.OfflineEnabled) return;
  let bars = document.querySelectorAll<HTMLElement>("outpost-offline");
  if (bars.length === 0 && document.body) {
    const bar = document.createElement("outpost-offline");
    document.body.prepend(bar);
    bars = document.querySelectorAll<HTMLElement>("outpost-offline");
  }
  bars.forEach((bar) => {
    bar.dataset.state = Connection.Sync;
    render(
      <>
        <span class="outpost-offline-title">{bar.getAttribute("title") ?? Host.AppName}</span>
        <span class="outpost-offline-state">{stateLabel[Connection.Sync]}</span>
        <SyncButton state={Connection.Sync} onOpen={() => void ShowHostInfo(HostInfo.OfflineSync)} />
      </>,
      bar,
    );
  });
}

// <outpost-file table="…" column="…" row-id="…">: the Offline template's
// file and image field, the canvas counterpart of a form's. It shows the
// row's image (or a link to its file) from the device and takes a new one
// from a file input (the camera on a phone; accept="" for a file column), stored
// offline and uploaded at sync; Replace and Remove too. It fires a
// "stored" event with the row as stored in detail.
let fieldSeq = 0;
class OutpostFile extends HTMLElement {
  static observedAttributes = ["table", "column", "row-id", "label", "accept"];
  private url = "";
  private seq = 0;
  private inputId = `outpost-file-${++fieldSeq}`;
  connectedCallback() {
    void this.refresh("");
  }
  attributeChangedCallback() {
    if (this.isConnected) void this.refresh("");
  }
  disconnectedCallback() {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = "";
  }
  private get where() {
    return { table: this.getAttribute("table") ?? "", column: this.getAttribute("column") ?? "", id: this.getAttribute("row-id") ?? "" };
  }
  private async refresh(message: string, error = false) {
    const n = ++this.seq;
    const { table, column, id } = this.where;
    const name = this.getAttribute("label") ?? column;
    // An image column by default (the camera on a phone); accept="" takes any file.
    const accept = this.getAttribute("accept") ?? "image/*";
    if (!table || !column || !id) return;
    let row: Record<string, unknown> | null = null;
    let file: { name: string; url: string; image: boolean } | null = null;
    let state = "";
    try {
      row = await Tables.get(table, id);
      if (row[column]) {
        const f = await Files.get(table, id, column);
        if (n !== this.seq) return;
        if (this.url) URL.revokeObjectURL(this.url);
        this.url = URL.createObjectURL(f.blob);
        file = { name: f.name, url: this.url, image: f.type.startsWith("image/") };
      } else state = `No ${name.toLowerCase()} yet.`;
    } catch (e) {
      state = (e as OutpostError).status === 404 ? `The ${name.toLowerCase()} is not on this device yet: it downloads with the next sync.` : (e as Error).message;
    }
    if (n !== this.seq) return;
    const store = (p: Promise<Record<string, unknown>>, done: string) =>
      p.then(
        (r) => {
          this.dispatchEvent(new CustomEvent("stored", { detail: r }));
          void this.refresh(done + (Connection.Sync.startsWith("NotConnected") ? "; it uploads when the connection returns." : "."));
        },
        (e: Error) => void this.refresh(`Not stored: ${e.message}`, true),
      );
    const take = (ev: Event) => {
      const input = ev.currentTarget as HTMLInputElement;
      const f = input.files?.[0];
      input.value = "";
      if (f) store(Files.put(table, id, column, f), `${name} stored on this device`);
    };
    render(
      <>
        {file?.image && <img class="outpost-file-image" src={file.url} alt={name} />}
        {file && !file.image && (
          <a class="outpost-file-link" href={file.url} download={file.name}>
            {file.name}
          </a>
        )}
        {state && <p class="outpost-file-state">{state}</p>}
        <label class="outpost-file-button" for={this.inputId}>
          {row?.[column] ? `Replace ${name.toLowerCase()}` : `Take or choose ${name.toLowerCase()}`}
        </label>
        {accept.startsWith("image/") ? (
          <input id={this.inputId} class="outpost-file-input" type="file" accept={accept} capture="environment" onChange={take} />
        ) : (
          <input id={this.inputId} class="outpost-file-input" type="file" accept={accept || undefined} onChange={take} />
        )}
        {row?.[column] ? (
          <button type="button" class="outpost-file-button" onClick={() => store(Files.remove(table, id, column), `${name} removed on this device`)}>
            Remove {name.toLowerCase()}
          </button>
        ) : null}
        <p class={error ? "outpost-file-message error" : "outpost-file-message"} role="status">
          {message}
        </p>
      </>,
      this,
    );
  }
}
customElements.define("outpost-file", OutpostFile);

addEventListener("message", (ev: MessageEvent<ToFrame>) => {
  if (ev.source !== parent || !ev.data || typeof ev.data !== "object") return;
  const m = ev.data;
  switch (m.outpost) {
    case "reply": {
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      if (m.ok) w.resolve(m.value);
      else w.reject(new OutpostError(m.error!));
      return;
    }
    case "hello":
      Host.OfflineEnabled = m.offlineEnabled;
      Host.AppName = m.appName;
      Connection.Sync = m.sync;
      drawTemplates();
      resolveReady();
      return;
    case "sync":
      if (m.sync === Connection.Sync) return;
      Connection.Sync = m.sync;
      drawTemplates();
      listeners.forEach((fn) => fn(m.sync));
      return;
  }
});

const style = document.createElement("style");
style.textContent = css;
document.head.append(style);

const Outpost = { ready, Host, HostInfo, ShowHostInfo, Connection, ConnectionSync, Tables, Files, OutpostError };
(window as any).Outpost = Outpost;

if (document.readyState === "loading") addEventListener("DOMContentLoaded", () => send({ outpost: "ready" }));
else send({ outpost: "ready" });
