// The REST calls of the Apps pages, kept beside them (the shared client in
// ../shared/server.ts holds what every page uses).
import { request, token, ServerError, type App, type S } from "../shared/server";

export type Definition = S["Definition"];
export type View = S["View"];
export type Form = S["Form"];
export type Section = S["Section"];
export type Generated = S["Generated"];
export type CanvasBundle = S["CanvasBundle"];
export type TableFilter = S["TableFilter"];

const A = "/api/offline/apps";
const q = encodeURIComponent;

function csrfToken(): string {
  const m = document.cookie.match(/(?:^|; )outpost_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export const appsApi = {
  app: (id: string) => request<App>("GET", `${A}/${q(id)}`),
  /** filter parses (filterText) or prints (filter) a filter on table, writing nothing. */
  filter: (table: string, f: S["FilterInput"]) => request<TableFilter>("POST", `/api/metadata/tables/${q(table)}/filter`, f),
  patch: (id: string, p: S["AppPatch"]) => request<App>("PATCH", `${A}/${q(id)}`, p),
  generateProfile: (id: string, o: S["GenerateInput"]) => request<Generated>("POST", `${A}/${q(id)}/generate-profile`, o),
  /** putBundle uploads a zip as it is (the body is the file, not JSON). */
  putBundle: async (id: string, file: Blob): Promise<CanvasBundle> => {
    const headers: Record<string, string> = { Accept: "application/json", "Content-Type": "application/zip" };
    const t = token.get();
    if (t) headers.Authorization = "Bearer " + t;
    else headers["X-CSRF-Token"] = csrfToken();
    const res = await fetch(`${A}/${q(id)}/bundle`, { method: "PUT", headers, body: file });
    const text = await res.text();
    let data: any;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ServerError(res.status, "internal", `The server answered ${res.status}: ${text}`, "");
    }
    if (!res.ok) {
      const e = data?.error ?? { code: "internal", message: text };
      throw new ServerError(res.status, e.code, e.message, e.target ?? "");
    }
    return data as CanvasBundle;
  },
};
