import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { server, ServerError, type Table, type Whoami } from "../shared/server";
import { go } from "./route";
import { PrivilegeGrid } from "./PrivilegeGrid";
import { may, rows, sec, type Row } from "./securityApi";

/** Directory is what every security view reads: business units, users,
 * teams, roles and tables, each with the API's refusal when it gave one. */
type Directory = {
  bus: Row[]; users: Row[]; teams: Row[]; roles: Row[]; tables: Table[];
  errors: Record<string, string>; reload: () => Promise<void>;
};

function useDirectory(): Directory | null {
  const [d, setD] = useState<Directory | null>(null);
  const load = (): Promise<void> => {
    const errors: Record<string, string> = {};
    const get = (t: string, query: string) => rows(t, query).catch((e: ServerError) => ((errors[t] = e.message), [] as Row[]));
    return Promise.all([
      get("businessunit", "$select=name,parentbusinessunitid&$orderby=name"),
      get("systemuser", "$select=fullname,domainname,internalemailaddress,businessunitid,parentsystemuserid,isdisabled&$orderby=fullname"),
      get("team", "$select=name,businessunitid,teamtype&$orderby=name"),
      get("role", "$select=name,businessunitid&$orderby=name"),
      server.tables().catch((e: ServerError) => ((errors.tables = e.message), [] as Table[])),
    ]).then(([bus, users, teams, roles, tables]) => setD({ bus, users, teams, roles, tables, errors, reload: load }));
  };
  useEffect(() => void load(), []);
  return d;
}

/** useLinks reads the rows of a relationship table (systemuserroles,
 * teammembership, teamroles): null while loading, or the API's refusal. */
function useLinks(table: string, filter: string): [Row[] | null, string, () => void] {
  const [links, setLinks] = useState<Row[] | null>(null);
  const [error, setError] = useState("");
  const load = () => {
    rows(table, "$filter=" + encodeURIComponent(filter)).then((l) => (setLinks(l), setError("")), (e: ServerError) => (setLinks([]), setError(e.message)));
  };
  useEffect(load, [table, filter]);
  return [links, error, load];
}

/** useFieldErrors places an API error at the field its target names; an
 * error naming none of the form's fields is shown for the whole form. */
function useFieldErrors(fields: string[]) {
  const [err, setErr] = useState<ServerError | null>(null);
  const at = (f: string) => (err && err.target === f ? err.message : "");
  const rest = err && !fields.includes(err.target) ? err.message : "";
  return { setErr, at, rest };
}

/** Field is a labelled control with the API's error under it. */
function Field({ id, label, error, hint, children }: { id: string; label: string; error?: string; hint?: string; children: (a: Record<string, any>) => ComponentChildren }) {
  const a = { id, "aria-invalid": error ? "true" : undefined, "aria-describedby": error ? id + "-error" : undefined };
  return (
    <div class="field">
      <label for={id}>{label}{hint && <small>{hint}</small>}</label>
      {children(a)}
      {error && <p id={id + "-error"} class="field-error" role="alert">{error}</p>}
    </div>
  );
}

const buName = (d: Directory, id: string) => d.bus.find((b) => b.businessunitid === id)?.name ?? "";
const userName = (d: Directory, id: string) => d.users.find((u) => u.systemuserid === id)?.fullname ?? "";
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
const rootBU = (d: Directory) => d.bus.find((b) => !b.parentbusinessunitid)?.businessunitid ?? "";

/** BUOptions lists business units as a tree, indented by depth. */
function BUOptions({ d }: { d: Directory }) {
  const out: preact.JSX.Element[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const b of d.bus.filter((x) => (x.parentbusinessunitid ?? null) === parent)) {
      out.push(<option value={b.businessunitid}>{"\u00a0\u00a0".repeat(depth) + b.name}</option>);
      walk(b.businessunitid, depth + 1);
    }
  };
  walk(null, 0);
  return <>{out}</>;
}

const tabs = [
  { path: "businessunits", label: "Business units" },
  { path: "users", label: "Users" },
  { path: "teams", label: "Teams" },
  { path: "roles", label: "Roles" },
];

/** SecurityPage is the security area: the business-unit tree, users,
 * teams and roles with the privilege grid. Everything reads and writes
 * through the API as the signed-in user; what they may not change is shown
 * read-only with the reason, and the API's refusals are shown at the field. */
export function SecurityPage({ me, route }: { me: Whoami; route: string[] }) {
  const [tab = "users", id] = route;
  const d = useDirectory();
  let view;
  if (!d) view = <p aria-busy="true">Loading…</p>;
  else if (tab === "businessunits") view = <BusinessUnits d={d} me={me} />;
  else if (tab === "teams") view = id ? <TeamEditor key={id} d={d} me={me} id={id} /> : <Teams d={d} me={me} />;
  else if (tab === "roles") view = id ? <RoleEditor key={id} d={d} me={me} id={id} /> : <Roles d={d} me={me} />;
  else view = id ? <UserEditor key={id} d={d} me={me} id={id} /> : <Users d={d} me={me} />;
  return (
    <main class="page security">
      <h1>Security</h1>
      <nav class="subnav" aria-label="Security">
        {tabs.map((t) => <a href={"#/security/" + t.path} aria-current={tab === t.path || (!tabs.some((x) => x.path === tab) && t.path === "users") ? "page" : undefined}>{t.label}</a>)}
      </nav>
      {view}
    </main>
  );
}

function ReadOnly({ children }: { children: ComponentChildren }) {
  return <p class="banner read-only" role="note">{children}</p>;
}

function Refused({ d, table }: { d: Directory; table: string }) {
  return d.errors[table] ? <p class="banner error" role="alert">{d.errors[table]}</p> : null;
}

// ---------------------------------------------------------------- business units

function BusinessUnits({ d, me }: { d: Directory; me: Whoami }) {
  const [unit, setUnit] = useState("");
  const [parent, setParent] = useState(rootBU(d));
  const f = useFieldErrors(["name", "parentbusinessunitid"]);
  const canCreate = may(me, "businessunit", "create");
  const tree = (p: string | null): preact.JSX.Element | null => {
    const kids = d.bus.filter((b) => (b.parentbusinessunitid ?? null) === p);
    if (!kids.length) return null;
    return (
      <ul aria-label={p === null ? "Business units" : "Under " + buName(d, p)}>
        {kids.map((b) => {
          const users = d.users.filter((u) => u.businessunitid === b.businessunitid).length;
          const teams = d.teams.filter((t) => t.businessunitid === b.businessunitid).length;
          return (
            <li>
              <span class="item-name">{b.name}</span> <span class="muted">{plural(users, "user")} · {plural(teams, "team")}</span>
              {tree(b.businessunitid)}
            </li>
          );
        })}
      </ul>
    );
  };
  const create = async (e: Event) => {
    e.preventDefault();
    f.setErr(null);
    try {
      await sec.create("businessunit", { name: unit, parentbusinessunitid: parent || null });
      setUnit("");
      d.reload();
    } catch (x) {
      f.setErr(x as ServerError);
    }
  };
  return (
    <>
      <Refused d={d} table="businessunit" />
      <div class="panel bu-tree">{tree(null)}</div>
      <h2>New business unit</h2>
      {canCreate ? (
        <form class="card-form" onSubmit={create} aria-label="New business unit">
          <Field id="nb-name" label="Name" error={f.at("name")}>{(a) => <input {...a} name="name" required value={unit} onInput={(e) => setUnit(e.currentTarget.value)} />}</Field>
          <Field id="nb-parent" label="Parent business unit" error={f.at("parentbusinessunitid")}>
            {(a) => <select {...a} value={parent} onChange={(e) => setParent(e.currentTarget.value)}><BUOptions d={d} /></select>}
          </Field>
          {f.rest && <p class="field-error" role="alert">{f.rest}</p>}
          <div class="actions"><button type="submit" class="primary">Create business unit</button></div>
        </form>
      ) : <ReadOnly>You can see the business units but not add them: that needs the Create privilege on Business Unit.</ReadOnly>}
    </>
  );
}

// ---------------------------------------------------------------- users

let passwordNotice: { user: string; message: string } | null = null;

function Users({ d, me }: { d: Directory; me: Whoami }) {
  const [v, setV] = useState({ fullname: "", domainname: "", internalemailaddress: "", businessunitid: rootBU(d), parentsystemuserid: "", password: "" });
  const f = useFieldErrors(["fullname", "domainname", "internalemailaddress", "businessunitid", "parentsystemuserid"]);
  const set = (k: keyof typeof v) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  const create = async (e: Event) => {
    e.preventDefault();
    f.setErr(null);
    let id = "";
    try {
      const row = await sec.create("systemuser", {
        fullname: v.fullname, domainname: v.domainname, internalemailaddress: v.internalemailaddress || null,
        businessunitid: v.businessunitid, parentsystemuserid: v.parentsystemuserid || null,
      });
      id = row.systemuserid;
    } catch (x) {
      f.setErr(x as ServerError);
      return;
    }
    if (v.password) {
      try {
        await sec.setPassword(id, v.password);
      } catch (x) {
        passwordNotice = { user: id, message: `The user was created, but the password was refused: ${(x as ServerError).message}` };
      }
    }
    await d.reload();
    go("security", "users", id);
  };
  return (
    <>
      <Refused d={d} table="systemuser" />
      <table class="rows users-list">
        <thead><tr><th scope="col">User</th><th scope="col">Sign-in name</th><th scope="col">Business unit</th><th scope="col">Manager</th><th scope="col">Status</th></tr></thead>
        <tbody>
          {d.users.map((u) => (
            <tr>
              <td><a href={"#/security/users/" + encodeURIComponent(u.systemuserid)}>{u.fullname}</a></td>
              <td data-label="Sign-in name">{u.domainname}</td>
              <td data-label="Business unit">{buName(d, u.businessunitid)}</td>
              <td data-label="Manager">{userName(d, u.parentsystemuserid)}</td>
              <td data-label="Status">{u.isdisabled ? "Disabled" : "Enabled"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>New user</h2>
      {may(me, "systemuser", "create") ? (
        <form class="card-form" onSubmit={create} aria-label="New user">
          <Field id="nu-fullname" label="Full name" error={f.at("fullname")}>{(a) => <input {...a} required value={v.fullname} onInput={set("fullname")} />}</Field>
          <Field id="nu-domainname" label="Sign-in name" hint="The login name, such as ana@contoso.example." error={f.at("domainname")}>{(a) => <input {...a} required value={v.domainname} onInput={set("domainname")} />}</Field>
          <Field id="nu-email" label="Email" error={f.at("internalemailaddress")}>{(a) => <input {...a} type="text" value={v.internalemailaddress} onInput={set("internalemailaddress")} />}</Field>
          <Field id="nu-bu" label="Business unit" error={f.at("businessunitid")}>{(a) => <select {...a} value={v.businessunitid} onChange={set("businessunitid")}><BUOptions d={d} /></select>}</Field>
          <Field id="nu-manager" label="Manager" error={f.at("parentsystemuserid")}>
            {(a) => <select {...a} value={v.parentsystemuserid} onChange={set("parentsystemuserid")}><option value="">No manager</option>{d.users.map((u) => <option value={u.systemuserid}>{u.fullname}</option>)}</select>}
          </Field>
          <Field id="nu-password" label="Password" hint="Optional: at least 10 characters, not the sign-in name.">{(a) => <input {...a} type="password" autoComplete="new-password" value={v.password} onInput={set("password")} />}</Field>
          {f.rest && <p class="field-error" role="alert">{f.rest}</p>}
          <div class="actions"><button type="submit" class="primary">Create user</button></div>
        </form>
      ) : <ReadOnly>You can see the users but not add them: that needs the Create privilege on User.</ReadOnly>}
    </>
  );
}

function UserEditor({ d, me, id }: { d: Directory; me: Whoami; id: string }) {
  const u = d.users.find((x) => x.systemuserid === id);
  if (!u) return <p class="banner error" role="alert">No user {id} that you may read.</p>;
  return <UserForm d={d} me={me} id={id} u={u} />;
}

function UserForm({ d, me, id, u }: { d: Directory; me: Whoami; id: string; u: Row }) {
  const [v, setV] = useState({ fullname: u.fullname ?? "", internalemailaddress: u.internalemailaddress ?? "", businessunitid: u.businessunitid ?? "", parentsystemuserid: u.parentsystemuserid ?? "", isdisabled: !!u.isdisabled });
  const f = useFieldErrors(["fullname", "internalemailaddress", "businessunitid", "parentsystemuserid", "isdisabled"]);
  const [status, setStatus] = useState("");
  const [password, setPassword] = useState("");
  const notice = passwordNotice?.user === id ? passwordNotice.message : "";
  const [pwError, setPwError] = useState(notice);
  const [pwStatus, setPwStatus] = useState("");
  useEffect(() => void (passwordNotice = null), []);
  const canWrite = may(me, "systemuser", "write");
  const set = (k: keyof typeof v) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  const save = async (e: Event) => {
    e.preventDefault();
    f.setErr(null);
    setStatus("");
    try {
      await sec.update("systemuser", id, { fullname: v.fullname, internalemailaddress: v.internalemailaddress || null, businessunitid: v.businessunitid, parentsystemuserid: v.parentsystemuserid || null, isdisabled: v.isdisabled });
      setStatus(`Saved ${v.fullname}.`);
      d.reload();
    } catch (x) {
      f.setErr(x as ServerError);
    }
  };
  const reset = async (e: Event) => {
    e.preventDefault();
    setPwError("");
    setPwStatus("");
    try {
      await sec.setPassword(id, password);
      setPassword("");
      setPwStatus(`The password of ${u.fullname} is set; their browser sessions and devices sign in again.`);
    } catch (x) {
      setPwError((x as ServerError).message);
    }
  };
  return (
    <>
      <p><a href="#/security/users">← Users</a></p>
      <h2 class="record-title">{u.fullname} <span class="muted">{u.domainname}</span>{u.isdisabled && <span class="badge warn-badge">Disabled</span>}</h2>
      <div class="editor">
        <form class="item-editor" onSubmit={save} aria-label="User">
          {!canWrite && <ReadOnly>You can see this user but not change them: that needs the Write privilege on User.</ReadOnly>}
          <fieldset class="plain" disabled={!canWrite}>
            <legend class="visually-hidden">User details</legend>
            <Field id="u-fullname" label="Full name" error={f.at("fullname")}>{(a) => <input {...a} required value={v.fullname} onInput={set("fullname")} />}</Field>
            <Field id="u-email" label="Email" error={f.at("internalemailaddress")}>{(a) => <input {...a} type="text" value={v.internalemailaddress} onInput={set("internalemailaddress")} />}</Field>
            <Field id="u-bu" label="Business unit" hint="The rows the user owns move with them." error={f.at("businessunitid")}>{(a) => <select {...a} value={v.businessunitid} onChange={set("businessunitid")}><BUOptions d={d} /></select>}</Field>
            <Field id="u-manager" label="Manager" error={f.at("parentsystemuserid")}>
              {(a) => <select {...a} value={v.parentsystemuserid} onChange={set("parentsystemuserid")}><option value="">No manager</option>{d.users.filter((x) => x.systemuserid !== id).map((x) => <option value={x.systemuserid}>{x.fullname}</option>)}</select>}
            </Field>
            <label class="choice"><input type="checkbox" name="isdisabled" checked={v.isdisabled} onChange={(e) => setV({ ...v, isdisabled: e.currentTarget.checked })} /> Disabled <small class="muted">(cannot sign in; their devices are revoked)</small></label>
            {f.at("isdisabled") && <p class="field-error" role="alert">{f.at("isdisabled")}</p>}
            {f.rest && <p class="field-error" role="alert">{f.rest}</p>}
            {status && <p class="banner" role="status">{status}</p>}
            {canWrite && <div class="actions"><button type="submit" class="primary">Save user</button></div>}
          </fieldset>
        </form>
        <div>
          {me.admin ? <form class="panel" onSubmit={reset} aria-label="Reset password">
            <h3>Reset password</h3>
            <Field id="u-password" label="New password" hint="At least 10 characters; not the sign-in name or email." error={pwError}>
              {(a) => <input {...a} type="password" autoComplete="new-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}
            </Field>
            {pwStatus && <p class="banner" role="status">{pwStatus}</p>}
            <div class="actions"><button type="submit">Set password</button></div>
          </form> : <ReadOnly>Only administrators set other users' passwords.</ReadOnly>}
          <LinkList title="Security roles" table="systemuserroles" filter={`systemuserid eq ${id}`} col="roleid" options={d.roles.map((r) => [r.roleid, r.name])}
            toggle={(role, on) => sec.userRole(id, role, on)} />
          <LinkList title="Teams" table="teammembership" filter={`systemuserid eq ${id}`} col="teamid" options={d.teams.map((t) => [t.teamid, t.name])}
            toggle={(team, on) => sec.member(team, id, on)} />
        </div>
      </div>
    </>
  );
}

/** LinkList shows one side of an N:N relationship as checkboxes; each
 * change goes to the API at once and its refusal is shown at the box. */
function LinkList({ title, table, filter, col, options, toggle }: {
  title: string; table: string; filter: string; col: string; options: [string, string][]; toggle: (id: string, on: boolean) => Promise<void>;
}) {
  const [links, error, reload] = useLinks(table, filter);
  const [errs, setErrs] = useState<Record<string, string>>({});
  const slug = title.toLowerCase().replace(/\W+/g, "-");
  const on = new Set((links ?? []).map((l) => l[col]));
  const change = async (id: string, checked: boolean) => {
    setErrs({ ...errs, [id]: "" });
    try {
      await toggle(id, checked);
    } catch (x) {
      setErrs({ ...errs, [id]: (x as ServerError).message });
    }
    reload();
  };
  return (
    <fieldset class="section links" aria-busy={links === null ? "true" : undefined}>
      <legend>{title}</legend>
      {error ? <p class="field-error" role="alert">{error}</p> : options.map(([id, label]) => (
        <div>
          <label class="choice"><input type="checkbox" name={slug} value={id} checked={on.has(id)} disabled={links === null}
            aria-invalid={errs[id] ? "true" : undefined} aria-describedby={errs[id] ? `${slug}-${id}-error` : undefined}
            onChange={(e) => change(id, e.currentTarget.checked)} /> {label}</label>
          {errs[id] && <p id={`${slug}-${id}-error`} class="field-error sub" role="alert">{errs[id]}</p>}
        </div>
      ))}
    </fieldset>
  );
}

// ---------------------------------------------------------------- teams

function Teams({ d, me }: { d: Directory; me: Whoami }) {
  const [team, setTeam] = useState("");
  const [bu, setBu] = useState(rootBU(d));
  const f = useFieldErrors(["name", "businessunitid"]);
  const create = async (e: Event) => {
    e.preventDefault();
    f.setErr(null);
    try {
      const row = await sec.create("team", { name: team, businessunitid: bu, teamtype: 0 });
      await d.reload();
      go("security", "teams", row.teamid);
    } catch (x) {
      f.setErr(x as ServerError);
    }
  };
  return (
    <>
      <Refused d={d} table="team" />
      <table class="rows teams-list">
        <thead><tr><th scope="col">Team</th><th scope="col">Business unit</th><th scope="col">Type</th></tr></thead>
        <tbody>
          {d.teams.map((t) => (
            <tr>
              <td><a href={"#/security/teams/" + encodeURIComponent(t.teamid)}>{t.name}</a></td>
              <td data-label="Business unit">{buName(d, t.businessunitid)}</td>
              <td data-label="Type">{t.teamtype === 1 ? "Access" : "Owner"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>New team</h2>
      {may(me, "team", "create") ? (
        <form class="card-form" onSubmit={create} aria-label="New team">
          <Field id="nt-team" label="Name" error={f.at("name")}>{(a) => <input {...a} required value={team} onInput={(e) => setTeam(e.currentTarget.value)} />}</Field>
          <Field id="nt-bu" label="Business unit" error={f.at("businessunitid")}>{(a) => <select {...a} value={bu} onChange={(e) => setBu(e.currentTarget.value)}><BUOptions d={d} /></select>}</Field>
          {f.rest && <p class="field-error" role="alert">{f.rest}</p>}
          <div class="actions"><button type="submit" class="primary">Create team</button></div>
        </form>
      ) : <ReadOnly>You can see the teams but not add them: that needs the Create privilege on Team.</ReadOnly>}
    </>
  );
}

function TeamEditor({ d, me, id }: { d: Directory; me: Whoami; id: string }) {
  const t = d.teams.find((x) => x.teamid === id);
  if (!t) return <p class="banner error" role="alert">No team {id} that you may read.</p>;
  return <TeamForm d={d} me={me} id={id} t={t} />;
}

function TeamForm({ d, me, id, t }: { d: Directory; me: Whoami; id: string; t: Row }) {
  const [v, setV] = useState({ name: t.name ?? "", businessunitid: t.businessunitid ?? "" });
  const f = useFieldErrors(["name", "businessunitid"]);
  const [status, setStatus] = useState("");
  const canWrite = may(me, "team", "write");
  const save = async (e: Event) => {
    e.preventDefault();
    f.setErr(null);
    setStatus("");
    try {
      await sec.update("team", id, v);
      setStatus(`Saved ${v.name}.`);
      d.reload();
    } catch (x) {
      f.setErr(x as ServerError);
    }
  };
  return (
    <>
      <p><a href="#/security/teams">← Teams</a></p>
      <h2 class="record-title">{t.name}</h2>
      <div class="editor">
        <form class="item-editor" onSubmit={save} aria-label="Team">
          {!canWrite && <ReadOnly>You can see this team but not change it: that needs the Write privilege on Team.</ReadOnly>}
          <fieldset class="plain" disabled={!canWrite}>
            <legend class="visually-hidden">Team details</legend>
            <Field id="t-name" label="Name" error={f.at("name")}>{(a) => <input {...a} required value={v.name} onInput={(e) => setV({ ...v, name: e.currentTarget.value })} />}</Field>
            <Field id="t-bu" label="Business unit" hint="The rows the team owns move with it." error={f.at("businessunitid")}>
              {(a) => <select {...a} value={v.businessunitid} onChange={(e) => setV({ ...v, businessunitid: e.currentTarget.value })}><BUOptions d={d} /></select>}
            </Field>
            {f.rest && <p class="field-error" role="alert">{f.rest}</p>}
            {status && <p class="banner" role="status">{status}</p>}
            {canWrite && <div class="actions"><button type="submit" class="primary">Save team</button></div>}
          </fieldset>
        </form>
        <div>
          <LinkList title="Members" table="teammembership" filter={`teamid eq ${id}`} col="systemuserid" options={d.users.map((u) => [u.systemuserid, u.fullname])}
            toggle={(user, on) => sec.member(id, user, on)} />
          <LinkList title="Team roles" table="teamroles" filter={`teamid eq ${id}`} col="roleid" options={d.roles.map((r) => [r.roleid, r.name])}
            toggle={(role, on) => sec.teamRole(id, role, on)} />
        </div>
      </div>
    </>
  );
}

// ---------------------------------------------------------------- roles

// The predefined roles have the same ids in every environment (security.md);
// the role editor reads the same from the API for the role it shows.
const predefinedIds = new Set(["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004"]);

function Roles({ d, me }: { d: Directory; me: Whoami }) {
  const [role, setRole] = useState("");
  const f = useFieldErrors(["name"]);
  const create = async (e: Event) => {
    e.preventDefault();
    f.setErr(null);
    try {
      const row = await sec.create("role", { name: role, businessunitid: rootBU(d) });
      await d.reload();
      go("security", "roles", row.roleid);
    } catch (x) {
      f.setErr(x as ServerError);
    }
  };
  return (
    <>
      <Refused d={d} table="role" />
      <ul class="app-cards role-list">
        {d.roles.map((r) => (
          <li><a href={"#/security/roles/" + encodeURIComponent(r.roleid)}>{r.name}</a> {predefinedIds.has(r.roleid) && <span class="badge">Predefined</span>}</li>
        ))}
      </ul>
      <h2>New role</h2>
      {may(me, "role", "create") ? (
        <form class="inline-form" onSubmit={create} aria-label="New role">
          <div class="grow"><Field id="nr-name" label="Name" error={f.at("name")}>{(a) => <input {...a} required maxLength={100} value={role} onInput={(e) => setRole(e.currentTarget.value)} />}</Field></div>
          <div><button type="submit" class="primary">Create role</button></div>
        </form>
      ) : <ReadOnly>You can see the roles but not add them: that needs the Create privilege on Security Role.</ReadOnly>}
      {f.rest && <p class="field-error" role="alert">{f.rest}</p>}
    </>
  );
}

function RoleEditor({ d, me, id }: { d: Directory; me: Whoami; id: string }) {
  const r = d.roles.find((x) => x.roleid === id);
  if (!r) return <p class="banner error" role="alert">No role {id} that you may read.</p>;
  return (
    <>
      <p><a href="#/security/roles">← Roles</a></p>
      {d.errors.tables && <p class="banner error" role="alert">{d.errors.tables}</p>}
      <PrivilegeGrid roleId={id} roleName={r.name} tables={d.tables} editable={me.admin}
        readOnlyReason="Only administrators may change a role's privileges: you can see them here." />
    </>
  );
}
