// The offline-profile calls of the portal's profile pages beyond the
// shared client: clone, delete, the published version, discard, app usage,
// assignment, the unsaved-item check and the operators of a table's columns.
// Types come from server-api.ts, generated from the server's openapi.json.
import { request, type ItemInput, type Profile, type S } from "../shared/server";

const q = encodeURIComponent;
const P = "/api/offline/profiles";

export type ItemCheck = S["ItemCheck"];
export type RelationshipCount = S["RelationshipCount"];
export type Assignment = S["Assignment"];
export type AppUsage = S["AppUsage"]["value"][number];
export type ColumnOperators = S["ColumnOperatorsList"]["value"];

export const profileApi = {
  clone: (id: string, name: string) => request<Profile>("POST", `${P}/${q(id)}/clone`, { name }),
  remove: (id: string) => request<void>("DELETE", `${P}/${q(id)}`),
  published: (id: string) => request<S["PublishedProfile"]>("GET", `${P}/${q(id)}/published`),
  discard: (id: string) => request<Profile>("POST", `${P}/${q(id)}/discard`),
  apps: (id: string) => request<S["AppUsage"]>("GET", `${P}/${q(id)}/apps`).then((l) => l.value),
  assign: (id: string, assignment: Assignment) => request<Profile>("PATCH", `${P}/${q(id)}`, { assignment }),
  checkItem: (id: string, table: string, it: ItemInput) => request<ItemCheck>("POST", `${P}/${q(id)}/items/${q(table)}/check`, it),
  operators: (table: string) => request<S["ColumnOperatorsList"]>("GET", `/api/metadata/tables/${q(table)}/operators`).then((l) => l.value),
  teams: () => request<S["RowPage"]>("GET", "/api/data/team?$select=name&$orderby=name").then((l) => l.value),
};
