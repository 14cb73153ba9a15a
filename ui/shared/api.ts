// A typed client of a local API described by an OpenAPI document: bodies
// and answers take their types from the generated agent-api.ts.
import type { components } from "./agent-api";

export type Schemas = components["schemas"];
export type DeviceStatus = Schemas["DeviceStatus"];
export type SyncState = Schemas["SyncState"];
export type Session = Schemas["Session"];
export type AppDefinition = Schemas["AppDefinition"];
export type View = Schemas["View"];
export type Form = Schemas["Form"];
export type TableDef = Schemas["TableDef"];
export type Column = Schemas["Column"];
export type RowPage = Schemas["RowPage"];
export type Row = Record<string, unknown>;

/** ApiError carries the agent's error body: what, where. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public target: string,
  ) {
    super(message);
  }
}

function csrfToken(): string {
  const m = document.cookie.match(/(?:^|; )outpost_agent_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return send<T>(method, path, headers, body === undefined ? undefined : JSON.stringify(body));
}

async function send<T>(method: string, path: string, headers: Record<string, string>, body?: BodyInit): Promise<T> {
  if (method !== "GET") headers["X-Outpost-CSRF"] = csrfToken();
  const res = await fetch(path, { method, headers, body, credentials: "same-origin" });
  if (res.status === 204 || res.status === 202) return undefined as T;
  const text = await res.text();
  let data: any;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(res.status, "internal", `The device agent answered ${res.status}: ${text}`, "");
  }
  if (!res.ok) {
    const e: Schemas["ErrorDetail"] = data?.error ?? { code: "internal", message: text, target: "" };
    throw new ApiError(res.status, e.code, e.message, e.target ?? "");
  }
  return data as T;
}

export const api = {
  session: () => call<Session>("GET", "/api/session"),
  signIn: (req: Schemas["SignInRequest"]) => call<Session>("POST", "/api/signin", req),
  signOut: () => call<Session>("POST", "/api/signout"),
  signInProviders: (server: string) => call<Schemas["SignInProviders"]>("GET", `/api/signin/providers?server=${encodeURIComponent(server)}`),
  startSSO: (server: string) => call<Schemas["SSOStart"]>("POST", "/api/signin/sso", { server }),
  apps: () => call<Schemas["AppList"]>("GET", "/api/apps"),
  openApp: (id: string) => call<Session>("POST", `/api/apps/${encodeURIComponent(id)}/open`),
  app: () => call<AppDefinition>("GET", "/api/app"),
  status: () => call<DeviceStatus>("GET", "/api/status"),
  rows: (table: string, q: { view?: string; filter?: string; search?: string; orderby?: string; skip?: number; top?: number }) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") p.set(k, String(v));
    return call<RowPage>("GET", `/api/tables/${encodeURIComponent(table)}/rows?${p}`);
  },
  row: (table: string, id: string) => call<Row>("GET", `/api/tables/${encodeURIComponent(table)}/rows/${encodeURIComponent(id)}`),
  createRow: (table: string, values: Row) =>
    call<Schemas["Created"]>("POST", `/api/tables/${encodeURIComponent(table)}/rows`, { values }),
  updateRow: (table: string, id: string, values: Row) =>
    call<Row>("PATCH", `/api/tables/${encodeURIComponent(table)}/rows/${encodeURIComponent(id)}`, { values }),
  deleteRow: (table: string, id: string) =>
    call<void>("DELETE", `/api/tables/${encodeURIComponent(table)}/rows/${encodeURIComponent(id)}`),
  /** fileURL is the address of a row's file; fileId makes it change with the file. */
  fileURL: (table: string, id: string, column: string, fileId: string) =>
    `${filePath(table, id, column)}?v=${encodeURIComponent(fileId)}`,
  /** putFile stores file (a File, or a Blob with its name) as a row's file or image. */
  putFile: (table: string, id: string, column: string, file: Blob, name = file instanceof File ? file.name : "") =>
    send<Row>("PUT", `${filePath(table, id, column)}?name=${encodeURIComponent(name)}`, file.type ? { "Content-Type": file.type } : {}, file),
  /** getFile reads a row's file or image from the device: its bytes, name and type. */
  getFile: async (table: string, id: string, column: string): Promise<StoredFile> => {
    const res = await fetch(filePath(table, id, column), { credentials: "same-origin" });
    if (!res.ok) {
      const text = await res.text();
      let e: Schemas["ErrorDetail"] = { code: "internal", message: `The device agent answered ${res.status}: ${text}`, target: "" };
      try {
        e = JSON.parse(text).error ?? e;
      } catch {}
      throw new ApiError(res.status, e.code, e.message, e.target ?? "");
    }
    const bytes = await res.arrayBuffer();
    const type = res.headers.get("X-Outpost-File-Type") || res.headers.get("Content-Type") || "application/octet-stream";
    const name = decodeURIComponent(res.headers.get("X-Outpost-File-Name") ?? column);
    return { name, type, size: bytes.byteLength, blob: new Blob([bytes], { type }) };
  },
  removeFile: (table: string, id: string, column: string) => call<Row>("DELETE", filePath(table, id, column)),
  pending: () => call<Schemas["PendingList"]>("GET", "/api/pending"),
  syncErrors: () => call<Schemas["SyncErrorList"]>("GET", "/api/errors"),
  retryError: (id: string) => call<Schemas["SyncErrorList"]>("POST", `/api/errors/${encodeURIComponent(id)}/retry`),
  discardError: (id: string) => call<Schemas["SyncErrorList"]>("POST", `/api/errors/${encodeURIComponent(id)}/discard`),
  sync: (full: boolean) => call<void>("POST", "/api/sync", { full }),
  checkUpdates: () => call<AppDefinition>("POST", "/api/check-updates"),
};

function filePath(table: string, id: string, column: string): string {
  return `/api/tables/${encodeURIComponent(table)}/rows/${encodeURIComponent(id)}/files/${encodeURIComponent(column)}`;
}

/** The largest image and file the device takes (the library's limits). */
export const maxImageBytes = 10 << 20;
export const maxFileBytes = 32 << 20;

/** StoredFile is a row's file or image as the device holds it. */
export type StoredFile = { name: string; type: string; size: number; blob: Blob };

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/**
 * checkFile is the device's check of a file before it is stored in column
 * col (forms and canvas apps alike): the column's size limit, and an image
 * type for an image column. It returns the refusal, or null.
 */
export function checkFile(col: Column, file: Blob, colLabel: string): ApiError | null {
  const limit = col.type === "image" ? maxImageBytes : maxFileBytes;
  if (file.size > limit) return new ApiError(413, "too_large", `${colLabel} takes files of at most ${mib(limit)}; this one has ${mib(file.size)}.`, col.name);
  if (file.size === 0) return new ApiError(400, "invalid", `The file for ${colLabel} is empty.`, col.name);
  if (col.type === "image" && file.type && !file.type.startsWith("image/"))
    return new ApiError(400, "invalid", `${colLabel} takes images (PNG, JPEG, GIF, WebP, BMP or ICO), not ${file.type}.`, col.name);
  return null;
}

/** watchStatus follows the agent's server-sent status events. */
export function watchStatus(onStatus: (s: DeviceStatus) => void, onDown: (down: boolean) => void): () => void {
  const es = new EventSource("/api/events");
  es.addEventListener("status", (ev) => {
    onDown(false);
    onStatus(JSON.parse((ev as MessageEvent).data));
  });
  es.onerror = () => onDown(true);
  return () => es.close();
}
