// A typed client of the Outpost server's REST API, with the password
// session's cookie (and its CSRF token on writes) or a bearer token; types come from server-api.ts, generated from
// the server's openapi.json.
import type { components } from "./server-api";

export type S = components["schemas"];
export type Whoami = S["Whoami"];
export type Table = S["Table"];
export type Relationship = S["Relationship"];
export type Profile = S["Profile"];
export type Item = S["Item"];
export type ItemInput = S["ItemInput"];
export type Rule = S["Rule"];
export type Validation = S["Validation"];
export type Problem = S["Problem"];
export type Preview = S["Preview"];
export type ErrorDetail = S["ErrorDetail"];
export type App = S["App"];

/** ServerError carries the server's error envelope: what, where. */
export class ServerError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public target: string,
  ) {
    super(message);
  }
}

const tokenKey = "outpost.portal.token";
export const token = {
  get: () => sessionStorage.getItem(tokenKey) ?? "",
  set: (t: string) => sessionStorage.setItem(tokenKey, t),
  clear: () => sessionStorage.removeItem(tokenKey),
};

export function csrfToken(): string {
  const m = document.cookie.match(/(?:^|; )outpost_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const t = token.get();
  if (t) headers.Authorization = "Bearer " + t;
  else if (method !== "GET") headers["X-CSRF-Token"] = csrfToken(); // a password session's cookie
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: any;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ServerError(res.status, "internal", `The server answered ${res.status}: ${text}`, "");
  }
  if (!res.ok) {
    const e: ErrorDetail = data?.error ?? { code: "internal", message: text };
    throw new ServerError(res.status, e.code, e.message, e.target ?? "");
  }
  return data as T;
}

const q = encodeURIComponent;
const P = "/api/offline/profiles";

export const server = {
  whoami: () => request<Whoami>("GET", "/api/whoami"),
  login: (username: string, password: string) => request<S["Session"]>("POST", "/api/auth/login", { username, password, mode: "session" }),
  logout: () => request<void>("POST", "/api/auth/logout"),
  tables: () => request<S["TableList"]>("GET", "/api/metadata/tables").then((l) => l.value),
  table: (name: string) => request<Table>("GET", `/api/metadata/tables/${q(name)}`),
  createTable: (t: S["TableInput"]) => request<Table>("POST", "/api/metadata/tables", t),
  patchTable: (name: string, p: S["TablePatch"]) => request<Table>("PATCH", `/api/metadata/tables/${q(name)}`, p),
  addColumn: (name: string, c: S["Column"]) => request<Table>("POST", `/api/metadata/tables/${q(name)}/columns`, c),
  patchColumn: (name: string, column: string, p: S["ColumnPatch"]) =>
    request<Table>("PATCH", `/api/metadata/tables/${q(name)}/columns/${q(column)}`, p),
  relationships: (name: string) =>
    request<S["RelationshipList"]>("GET", `/api/metadata/tables/${q(name)}/relationships`).then((l) => l.value),
  rows: (table: string, filter: string) =>
    request<S["RowPage"]>("GET", `/api/data/${q(table)}?$top=50&$count=true${filter ? "&$filter=" + q(filter) : ""}`),
  users: () =>
    request<S["RowPage"]>("GET", "/api/data/systemuser?$select=fullname,domainname&$orderby=fullname").then((l) => l.value),
  profiles: () => request<S["ProfileList"]>("GET", P).then((l) => l.value),
  profile: (id: string) => request<Profile>("GET", `${P}/${q(id)}`),
  createProfile: (p: S["ProfileInput"]) => request<Profile>("POST", P, p),
  putItem: (id: string, table: string, it: ItemInput) => request<Profile>("PUT", `${P}/${q(id)}/items/${q(table)}`, it),
  deleteItem: (id: string, table: string) => request<Profile>("DELETE", `${P}/${q(id)}/items/${q(table)}`),
  validate: (id: string) => request<Validation>("POST", `${P}/${q(id)}/validate`),
  publish: (id: string) => request<S["PublishResult"]>("POST", `${P}/${q(id)}/publish`),
  apps: () => request<S["AppList"]>("GET", "/api/offline/apps").then((l) => l.value),
  createApp: (a: S["AppInput"]) => request<App>("POST", "/api/offline/apps", a),
  setOffline: (id: string, o: S["OfflineSetting"]) => request<App>("PUT", `/api/offline/apps/${q(id)}/offline`, o),
  publishApp: (id: string) => request<App>("POST", `/api/offline/apps/${q(id)}/publish`),
  preview: (id: string, user: string) => request<Preview>("GET", `${P}/${q(id)}/preview?user=${q(user)}`),
};
