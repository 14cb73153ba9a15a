import { useEffect, useState } from "preact/hooks";
import { server, ServerError, type App, type Profile } from "../shared/server";

const kindLabels: Record<string, string> = { canvas: "Canvas", modeldriven: "Model-driven" };

/** AppsPage lists the apps with Can be used offline, the profile, publish
 * and the needs-republish badge; it creates apps. */
export function AppsPage() {
  const [apps, setApps] = useState<App[] | null>(null);
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [error, setError] = useState("");
  const [name, setName] = useState("");
  const [kind, setKind] = useState<"canvas" | "modeldriven">("modeldriven");
  const [createError, setCreateError] = useState("");
  const load = () => server.apps().then(setApps, (e: ServerError) => setError(e.message));
  useEffect(() => {
    load();
    server.profiles().then(setProfiles, () => setProfiles([]));
  }, []);
  const replace = (a: App) => setApps((l) => l?.map((x) => (x.id === a.id ? a : x)) ?? null);
  const create = async (e: Event) => {
    e.preventDefault();
    setCreateError("");
    try {
      const a = await server.createApp({ kind, name, definition: { tables: [] } });
      setApps((l) => [...(l ?? []), a]);
      setName("");
    } catch (x) {
      setCreateError((x as ServerError).message);
    }
  };
  return (
    <main class="page">
      <h1>Apps</h1>
      {error && <p class="banner error" role="alert">{error}</p>}
      <ul class="app-cards">{apps?.map((a) => <AppCard app={a} profiles={profiles.filter((p) => p.publishedVersion)} onChange={replace} />)}</ul>
      <h2>New app</h2>
      <form class="inline-form" onSubmit={create} aria-label="New app">
        <div class="grow"><label for="na-name">Name</label>
          <input id="na-name" name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} /></div>
        <div><label for="na-kind">Kind</label>
          <select id="na-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as typeof kind)}>
            <option value="modeldriven">Model-driven</option>
            <option value="canvas">Canvas</option>
          </select></div>
        <div><button type="submit" class="primary">Create app</button></div>
      </form>
      {createError && <p class="field-error" role="alert">{createError}</p>}
    </main>
  );
}

function AppCard({ app, profiles, onChange }: { app: App; profiles: Profile[]; onChange: (a: App) => void }) {
  const [enabled, setEnabled] = useState(app.offline);
  const [profileId, setProfileId] = useState(app.profileId ?? "");
  const [error, setError] = useState("");
  const id = "app-" + app.id;
  const needsSolution = app.kind === "canvas" && app.solutions.length === 0;
  const save = async () => {
    setError("");
    try {
      onChange(await server.setOffline(app.id, { enabled, profileId: enabled ? profileId : "" }));
    } catch (e) {
      setError((e as ServerError).message);
    }
  };
  const publish = async () => {
    setError("");
    try {
      onChange(await server.publishApp(app.id));
    } catch (e) {
      setError((e as ServerError).message);
    }
  };
  return (
    <li class="app-card-portal" aria-labelledby={id + "-name"}>
      <h2 id={id + "-name"}>{app.displayName || app.name} <span class="muted">{kindLabels[app.kind]}</span>
        {app.needsRepublish && <span class="badge warn-badge">Needs republish</span>}</h2>
      <p class="muted">{app.publishedOn ? `Published ${new Date(app.publishedOn).toLocaleString("en")}` : "Never published"}
        {app.solutions.length > 0 && ` · in ${app.solutions.join(", ")}`}</p>
      <fieldset class="section">
        <legend>Settings → General</legend>
        <label class="choice"><input type="checkbox" name="offline" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} /> Can be used offline</label>
        {needsSolution && <p class="muted">A canvas app can be used offline only once it is in a solution: add it to one under Solutions, so its offline profile travels with it.</p>}
        {enabled && (
          <>
            <label for={id + "-profile"}>Offline profile <small>Only published profiles.</small></label>
            <select id={id + "-profile"} name="profile" value={profileId} onChange={(e) => setProfileId(e.currentTarget.value)}>
              <option value="">Choose a profile…</option>
              {profiles.map((p) => <option value={p.id}>{p.name}</option>)}
            </select>
          </>
        )}
        {error && <p class="field-error" role="alert">{error}</p>}
        <div class="actions">
          <button onClick={save}>Save</button>
          <button class="primary" onClick={publish}>Publish</button>
        </div>
      </fieldset>
    </li>
  );
}
