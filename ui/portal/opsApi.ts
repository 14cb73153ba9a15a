// The portal's calls for solutions, Sync Errors and devices: the public
// REST API with the signed-in maker's credentials, typed from server-api.ts.
import { request, token, csrfToken, ServerError, type S, type ErrorDetail } from "../shared/server";

export type Solution = S["Solution"];
export type Component = S["Component"];
export type RequiredComponent = S["RequiredComponent"];
export type ImportResult = S["ImportResult"];
export type SyncError = S["SyncError"];
export type DeviceInfo = S["DeviceInfo"];
export type DeviceStore = S["DeviceStore"];
export type SyncEvent = S["SyncEvent"];

const q = encodeURIComponent;
const SOL = "/api/offline/solutions";

/** raw sends a request whose body or reply is not JSON (a zip archive),
 * with the same credentials as request, and reads an error envelope. */
async function raw(method: string, path: string, body?: Blob): Promise<Response> {
  const headers: Record<string, string> = {};
  const t = token.get();
  if (t) headers.Authorization = "Bearer " + t;
  else if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body) headers["Content-Type"] = "application/zip";
  const res = await fetch(path, { method, headers, body });
  if (!res.ok) {
    const text = await res.text();
    let e: ErrorDetail = { code: "internal", message: `The server answered ${res.status}: ${text}` };
    try {
      e = JSON.parse(text).error ?? e;
    } catch {
      /* not an envelope: the text says it */
    }
    throw new ServerError(res.status, e.code, e.message, e.target ?? "");
  }
  return res;
}

/** SyncErrorFilter is what the Sync errors page narrows by; empty: any. */
export type SyncErrorFilter = { user: string; table: string; type: string; state: string };

export const ops = {
  solutions: () => request<S["SolutionList"]>("GET", SOL).then((l) => l.value),
  solution: (name: string) => request<Solution>("GET", `${SOL}/${q(name)}`),
  createSolution: (s: S["SolutionInput"]) => request<Solution>("POST", SOL, s),
  addComponent: (name: string, c: Component) => request<Solution>("POST", `${SOL}/${q(name)}/components`, c),
  removeComponent: (name: string, c: Component) => request<Solution>("DELETE", `${SOL}/${q(name)}/components/${q(c.kind)}/${q(c.id)}`),
  addRequired: (name: string) => request<S["RequiredResult"]>("POST", `${SOL}/${q(name)}/required`).then((r) => r.added),
  /** exportSolution downloads the archive as NAME.zip. */
  exportSolution: async (name: string) => {
    const res = await raw("GET", `${SOL}/${q(name)}/export`);
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = name + ".zip";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  },
  importSolution: async (file: Blob, publish: boolean) =>
    (await raw("POST", `${SOL}/import${publish ? "?publish=true" : ""}`, file)).json() as Promise<ImportResult>,

  syncErrors: (f: SyncErrorFilter) => {
    const p = new URLSearchParams();
    if (f.user) p.set("user", f.user);
    else p.set("all", "true");
    if (f.table) p.set("table", f.table);
    if (f.type) p.set("type", f.type);
    if (f.state) p.set("state", f.state);
    return request<S["SyncErrorList"]>("GET", `/api/sync/v1/errors?${p}`).then((l) => l.errors);
  },
  retry: (id: string) => request<SyncError>("POST", `/api/sync/v1/errors/${q(id)}/retry`),
  resolve: (id: string) => request<SyncError>("POST", `/api/sync/v1/errors/${q(id)}/resolve`),
  row: (table: string, id: string) => request<Record<string, unknown>>("GET", `/api/data/${q(table)}(${q(id)})`),

  devices: (revoked: boolean) => request<S["DeviceList"]>("GET", `/api/admin/devices${revoked ? "?revoked=true" : ""}`).then((l) => l.value ?? []),
  /** syncs lists a device's most recent sync telemetry events, newest first. */
  syncs: (device: string, top = 10) =>
    request<S["SyncEventList"]>("GET", `/api/admin/syncs?device=${q(device)}&$top=${top}`).then((l) => l.value ?? []),
  revoke: (device: string) => request<void>("POST", `/api/devices/${q(device)}/revoke`),
};

/** errorTypes and actions are the syncerror table's choices. */
export const errorTypes: Record<number, string> = { 0: "Conflict", 1: "Record not found", 2: "Record already exists", 3: "Others" };
export const actions: Record<number, string> = { 0: "Create", 1: "Update", 2: "Delete" };
