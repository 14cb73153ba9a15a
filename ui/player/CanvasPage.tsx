// CanvasPage hosts a canvas app: the maker's bundle in a frame sandboxed
// without same-origin, served by the agent. The frame asks for data by
// postMessage (ui/canvas/protocol.ts); the page answers through the same
// local API as views and forms, so writes get the same checks, and sends
// every change of Connection.Sync. Files and images go through the same
// routes as a form's file fields, with the same checks.
import { useEffect, useRef } from "preact/hooks";
import { api, ApiError, checkFile, type AppDefinition, type SyncState } from "../shared/api";
import { label } from "../shared/format";
import type { Call, Hello, HostError, Reply, Sync, ToPlayer } from "../canvas/protocol";
import { go } from "./route";

function hostError(e: unknown): HostError {
  if (e instanceof ApiError) return { status: e.status, code: e.code, message: e.message, target: e.target };
  return { status: 0, code: "internal", message: String(e), target: "" };
}

/** answer carries out one call of the frame. */
async function answer(app: AppDefinition, c: Call): Promise<unknown> {
  if (c.op === "showHostInfo") {
    if (c.info !== "OfflineSync") throw new ApiError(400, "invalid", `ShowHostInfo knows HostInfo.OfflineSync, not ${JSON.stringify(c.info)}`, "info");
    go("status");
    return undefined;
  }
  const table = c.table ?? "";
  if (!app.tables.some((t) => t.name === table))
    throw new ApiError(400, "invalid", `table ${JSON.stringify(table)} is not in this app: use one of ${app.tables.map((t) => t.name).join(", ")}`, "table");
  if (c.op === "getFile" || c.op === "putFile" || c.op === "removeFile") {
    const def = app.tables.find((t) => t.name === table)!;
    const col = def.columns.find((x) => x.name === c.column);
    if (!col || (col.type !== "image" && col.type !== "file")) {
      const cols = def.columns.filter((x) => x.type === "image" || x.type === "file").map((x) => x.name);
      throw new ApiError(400, "invalid", `${JSON.stringify(c.column ?? "")} is not a file or image column of table ${JSON.stringify(table)}${cols.length ? `: use ${cols.join(", ")}` : ""}`, "column");
    }
    const rowId = c.rowId ?? "";
    if (c.op === "getFile") return api.getFile(table, rowId, col.name);
    if (c.op === "removeFile") return api.removeFile(table, rowId, col.name);
    const file = c.file;
    if (!(file instanceof Blob)) throw new ApiError(400, "invalid", "give the file as a File or a Blob (from a file input, the camera or a canvas)", "file");
    // The same checks as a form's file field, before the agent's own.
    const refused = checkFile(col, file, label(col.name));
    if (refused) throw refused;
    return api.putFile(table, rowId, col.name, file, c.name || (file instanceof File ? file.name : ""));
  }
  switch (c.op) {
    case "list":
      return api.rows(table, c.query ?? {});
    case "get":
      return api.row(table, c.rowId ?? "");
    case "create":
      return api.createRow(table, c.values ?? {});
    case "update":
      return api.updateRow(table, c.rowId ?? "", c.values ?? {});
    case "delete":
      return api.deleteRow(table, c.rowId ?? "");
  }
  throw new ApiError(400, "invalid", `unknown call ${JSON.stringify((c as Call).op)}`, "op");
}

export function CanvasPage({ app, sync }: { app: AppDefinition; sync: SyncState }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const syncRef = useRef(sync);
  syncRef.current = sync;
  const canvas = app.canvas!;

  useEffect(() => {
    const post = (m: Reply | Hello | Sync) => frame.current?.contentWindow?.postMessage(m, "*");
    const on = (ev: MessageEvent<ToPlayer>) => {
      // Only the app's own frame; its origin is opaque ("null").
      if (!frame.current || ev.source !== frame.current.contentWindow || !ev.data || typeof ev.data !== "object") return;
      const m = ev.data;
      if (m.outpost === "ready") {
        post({ outpost: "hello", offlineEnabled: canvas.offlineEnabled, sync: syncRef.current, appName: app.name, tables: app.tables.map((t) => t.name) });
      } else if (m.outpost === "call" && typeof m.id === "number") {
        answer(app, m).then(
          (value) => post({ outpost: "reply", id: m.id, ok: true, value }),
          (e) => post({ outpost: "reply", id: m.id, ok: false, error: hostError(e) }),
        );
      }
    };
    addEventListener("message", on);
    return () => removeEventListener("message", on);
  }, [app]);

  useEffect(() => {
    frame.current?.contentWindow?.postMessage({ outpost: "sync", sync } satisfies Sync, "*");
  }, [sync]);

  if (!canvas.bundle)
    return (
      <main class="page narrow">
        <p class="notice">This canvas app has no bundle yet: its maker uploads one to the server, then Check for updates on Device status brings it here.</p>
      </main>
    );
  return <iframe ref={frame} class="canvas-frame" title={app.name} src={canvas.url} sandbox="allow-scripts allow-forms" />;
}
