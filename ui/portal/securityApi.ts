// The security pages' calls: business units, users, teams and roles are rows
// of the data API; passwords, role and team links and role privileges are
// the /api/security routes. Nothing here bypasses the API's checks.
import { request, type S } from "../shared/server";

export type Row = Record<string, any>;
export type Grant = S["Grant"];
export type RoleGrants = S["RoleGrants"];
export type Privilege = Grant["privilege"];
export type Depth = Grant["depth"];

const q = encodeURIComponent;

/** rows reads every row of a table the caller may read, following @odata.nextLink. */
export async function rows(table: string, query = ""): Promise<Row[]> {
  let page = await request<S["RowPage"]>("GET", `/api/data/${q(table)}${query ? "?" + query : ""}`);
  const out: Row[] = [...page.value];
  while (page["@odata.nextLink"]) {
    page = await request<S["RowPage"]>("GET", page["@odata.nextLink"] as string);
    out.push(...page.value);
  }
  return out;
}

export const sec = {
  create: (table: string, row: Row) => request<Row>("POST", `/api/data/${q(table)}`, row),
  update: (table: string, id: string, row: Row) => request<Row>("PATCH", `/api/data/${q(table)}(${q(id)})`, row),
  setPassword: (user: string, password: string) => request<void>("PUT", `/api/security/users/${q(user)}/password`, { password }),
  userRole: (user: string, role: string, on: boolean) => request<void>(on ? "PUT" : "DELETE", `/api/security/users/${q(user)}/roles/${q(role)}`),
  teamRole: (team: string, role: string, on: boolean) => request<void>(on ? "PUT" : "DELETE", `/api/security/teams/${q(team)}/roles/${q(role)}`),
  member: (team: string, user: string, on: boolean) => request<void>(on ? "PUT" : "DELETE", `/api/security/teams/${q(team)}/members/${q(user)}`),
  roleGrants: (role: string) => request<RoleGrants>("GET", `/api/security/roles/${q(role)}/privileges`),
  setRoleGrants: (role: string, privileges: Grant[]) => request<void>("PUT", `/api/security/roles/${q(role)}/privileges`, { privileges }),
};

export const privileges: { key: Privilege; label: string }[] = [
  { key: "create", label: "Create" }, { key: "read", label: "Read" }, { key: "write", label: "Write" },
  { key: "delete", label: "Delete" }, { key: "append", label: "Append" }, { key: "appendto", label: "Append To" },
  { key: "assign", label: "Assign" }, { key: "share", label: "Share" },
];

export const depthLabels = ["None", "User", "Business unit", "Parent: child business units", "Organization"];

/** may tells whether the signed-in user holds a privilege on a table at any
 * depth (administrators hold them all); the API decides each row. */
export function may(me: S["Whoami"], table: string, privilege: Privilege): boolean {
  return me.admin || me.privileges.some((g) => g.table === table && g.privilege === privilege && g.depth > 0);
}
