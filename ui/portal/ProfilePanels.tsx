// The profile editor's panels beside the tables: the draft next to the
// published version (with Discard), the apps that use the profile, and who
// has offline access (Default, or Restricted to picked users and teams).
import { useEffect, useState } from "preact/hooks";
import { server, ServerError, type Item, type Profile } from "../shared/server";
import { ruleLabels } from "./rules";
import { profileApi, type AppUsage, type Assignment } from "./profileApi";

type Published = Awaited<ReturnType<typeof profileApi.published>>;

function summary(it: Item | undefined): string {
  if (!it) return "—";
  const parts: string[] = [ruleLabels[it.rule]];
  if (it.rule === "organization") parts.push([it.userRows && "user's rows", it.teamRows && "team rows", it.businessUnitRows && "business-unit rows"].filter(Boolean).join(", "));
  if (it.rule === "custom" && it.filter) parts.push("filter " + JSON.stringify(it.filter));
  if (it.relationships?.length) parts.push("through " + it.relationships.join(", "));
  if (it.imageColumns?.length) parts.push("images " + it.imageColumns.join(", "));
  if (it.files) parts.push("files");
  parts.push(`every ${it.intervalMinutes || 10} min`);
  return parts.join("; ");
}

/** PublishedPanel shows the draft and the published version side by side, table by table. */
export function PublishedPanel({ profile, onDiscarded }: { profile: Profile; onDiscarded: (p: Profile) => void }) {
  const [pub, setPub] = useState<Published | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!profile.publishedVersion) return setPub(null);
    profileApi.published(profile.id).then(setPub, (e: ServerError) => setError(e.message));
  }, [profile.id, profile.publishedVersion]);
  const discard = async () => {
    setError("");
    try {
      onDiscarded(await profileApi.discard(profile.id));
    } catch (e) {
      setError((e as ServerError).message);
    }
  };
  if (!profile.publishedVersion) {
    return (
      <section class="panel-section published" aria-labelledby="published-h">
        <h2 id="published-h">Draft and published version</h2>
        <p class="muted">Never published: devices get nothing from this profile until it is published.</p>
      </section>
    );
  }
  const tables = [...new Set([...(pub?.items ?? []).map((i) => i.table), ...profile.items.map((i) => i.table)])].sort();
  return (
    <section class="panel-section published" aria-labelledby="published-h">
      <h2 id="published-h">Draft and published version</h2>
      <p class="muted">{profile.draft ? `The draft has changes that devices do not get until you publish. Published version ${profile.publishedVersion}:` : `The draft is published version ${profile.publishedVersion}.`}</p>
      {error && <p class="field-error" role="alert">{error}</p>}
      {pub && (
        <table class="rows side-by-side">
          <thead><tr><th scope="col">Table</th><th scope="col">Draft</th><th scope="col">Published (version {pub.version})</th></tr></thead>
          <tbody>
            {tables.map((t) => {
              const d = summary(profile.items.find((i) => i.table === t));
              const p = summary(pub.items.find((i) => i.table === t));
              return (
                <tr class={d !== p ? "changed" : ""}>
                  <td>{t}{d !== p && <span class="badge"> changed</span>}</td>
                  <td data-label="Draft">{d}</td>
                  <td data-label="Published">{p}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {profile.draft && <div class="actions"><button type="button" class="danger discard" onClick={discard}>Discard draft</button></div>}
    </section>
  );
}

/** AppUsagePanel lists the apps that use the profile. */
export function AppUsagePanel({ profile }: { profile: Profile }) {
  const [apps, setApps] = useState<AppUsage[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => void profileApi.apps(profile.id).then(setApps, (e: ServerError) => setError(e.message)), [profile.id, profile.publishedVersion]);
  return (
    <section class="panel-section app-usage" aria-labelledby="usage-h">
      <h2 id="usage-h">App usage</h2>
      {error && <p class="field-error" role="alert">{error}</p>}
      {apps && apps.length === 0 && <p class="muted">No app uses this profile.</p>}
      {apps && apps.length > 0 && (
        <ul class="usage">
          {apps.map((a) => (
            <li><a href="#/apps">{a.name}</a> <span class="muted">{a.kind === "canvas" ? "canvas" : "model-driven"}{a.inSolution ? ", in a solution" : ""}</span>
              {a.needsRepublish && <span class="badge warn-badge"> Needs republish</span>}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** AccessPanel is Users with offline access: Default (every user of the
 * profile's apps) or Restricted to picked users and members of picked teams. */
export function AccessPanel({ profile, onSaved }: { profile: Profile; onSaved: (p: Profile) => void }) {
  const [a, setA] = useState<Assignment>(profile.assignment);
  const [users, setUsers] = useState<Record<string, unknown>[]>([]);
  const [teams, setTeams] = useState<Record<string, unknown>[]>([]);
  const [error, setError] = useState("");
  useEffect(() => setA(profile.assignment), [profile.id, JSON.stringify(profile.assignment)]);
  useEffect(() => {
    server.users().then(setUsers, () => setUsers([]));
    profileApi.teams().then(setTeams, () => setTeams([]));
  }, []);
  const toggle = (list: string[] | undefined, v: string, on: boolean) => (on ? [...(list ?? []), v] : (list ?? []).filter((x) => x.toLowerCase() !== v.toLowerCase()));
  const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x.toLowerCase() === v.toLowerCase());
  const save = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      onSaved(await profileApi.assign(profile.id, a.mode === "default" ? { mode: "default" } : { mode: "restricted", users: a.users ?? [], teams: a.teams ?? [] }));
    } catch (x) {
      setError((x as ServerError).message);
    }
  };
  const changed = JSON.stringify({ m: a.mode, u: a.users ?? [], t: a.teams ?? [] }) !== JSON.stringify({ m: profile.assignment.mode, u: profile.assignment.users ?? [], t: profile.assignment.teams ?? [] });
  return (
    <section class="panel-section access" aria-labelledby="access-h">
      <h2 id="access-h">Users with offline access</h2>
      <form onSubmit={save} aria-label="Users with offline access">
        <fieldset class="section">
          <legend>Who may take this profile's apps offline</legend>
          <label class="choice"><input type="radio" name="access" value="default" checked={a.mode === "default"} onChange={() => setA({ mode: "default" })} /> Default: every user of the apps that use it</label>
          <label class="choice"><input type="radio" name="access" value="restricted" checked={a.mode === "restricted"} onChange={() => setA({ mode: "restricted", users: a.users ?? [], teams: a.teams ?? [] })} /> Restricted: only these users and members of these teams</label>
          {a.mode === "restricted" && (
            <div class="sub pickers">
              <fieldset class="section"><legend>Users</legend>
                {users.map((u) => {
                  const id = String(u.systemuserid);
                  return <label class="choice"><input type="checkbox" name="access-user" value={id} checked={has(a.users, id)} onChange={(e) => setA({ ...a, users: toggle(a.users, id, e.currentTarget.checked) })} /> {String(u.fullname)} <span class="muted">{String(u.domainname)}</span></label>;
                })}
              </fieldset>
              <fieldset class="section"><legend>Teams</legend>
                {teams.length === 0 && <p class="muted">No teams.</p>}
                {teams.map((t) => {
                  const id = String(t.teamid);
                  return <label class="choice"><input type="checkbox" name="access-team" value={id} checked={has(a.teams, id)} onChange={(e) => setA({ ...a, teams: toggle(a.teams, id, e.currentTarget.checked) })} /> {String(t.name)}</label>;
                })}
              </fieldset>
            </div>
          )}
        </fieldset>
        {error && <p class="field-error" role="alert">{error}</p>}
        <div class="actions"><button type="submit" class="primary save-access" disabled={!changed}>{changed ? "Save access" : "Access saved"}</button></div>
      </form>
    </section>
  );
}
