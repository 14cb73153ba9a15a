import { useEffect, useState } from "preact/hooks";
import { server, ServerError, type App, type Profile } from "../shared/server";
import { appsApi, type Generated } from "./appsApi";

export const kindLabels: Record<string, string> = { canvas: "Canvas", modeldriven: "Model-driven" };

/** generate is the profile choice that makes a new profile from the app. */
const generate = "__generate";

/** generateLabels name that choice as the product does, per kind. */
const generateLabels: Record<string, string> = { canvas: "Auto-generated profile", modeldriven: "New profile with current app data" };

/** AppsPage lists the apps with Can be used offline, the profile, publish
 * and the needs-republish badge; it creates apps and links to each app's
 * editor (tables, views and forms; a canvas app's web bundle). */
export function AppsPage() {
  const [apps, setApps] = useState<App[] | null>(null);
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [error, setError] = useState("");
  const [name, setName] = useState("");
  const [kind, setKind] = useState<"canvas" | "modeldriven">("modeldriven");
  const [createError, setCreateError] = useState("");
  const load = () => server.apps().then(setApps, (e: ServerError) => setError(e.message));
  const loadProfiles = () => server.profiles().then(setProfiles, () => setProfiles([]));
  useEffect(() => {
    load();
    loadProfiles();
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
      <ul class="app-cards">{apps?.map((a) => <AppCard app={a} profiles={profiles} onChange={replace} onProfiles={loadProfiles} />)}</ul>
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

/** AppCard is one app: its state, Settings → General (Can be used offline
 * with the profile choice) and Publish; on the list and on the app's page. */
export function AppCard({ app, profiles, onChange, onProfiles, heading = true }: {
  app: App; profiles: Profile[]; onChange: (a: App) => void; onProfiles: () => void; heading?: boolean;
}) {
  const [enabled, setEnabled] = useState(app.offline);
  const [profileId, setProfileId] = useState(app.profileId ?? "");
  const [error, setError] = useState<ServerError | null>(null);
  const [generated, setGenerated] = useState<Generated | null>(null);
  const [notice, setNotice] = useState("");
  const id = "app-" + app.id;
  const needsSolution = app.kind === "canvas" && app.solutions.length === 0;
  const published = profiles.filter((p) => p.publishedVersion || p.id === app.profileId);
  const editLabel = app.kind === "canvas" ? "Tables and web bundle" : "Tables, views and forms";
  const attempt = async (f: () => Promise<void>) => {
    setError(null);
    setNotice("");
    try {
      await f();
    } catch (e) {
      setError(e as ServerError);
    }
  };
  const save = () =>
    attempt(async () => {
      if (enabled && profileId === generate) {
        setGenerated(null);
        const g = await appsApi.generateProfile(app.id, { publish: true, bind: true });
        setGenerated(g);
        setProfileId(g.profile.id);
        onProfiles();
        onChange(await appsApi.app(app.id));
        return;
      }
      onChange(await server.setOffline(app.id, { enabled, profileId: enabled ? profileId : "" }));
      setNotice("Saved.");
    });
  // A generated profile that does not validate is refused whole; the maker
  // may keep it as a draft to fix in the profile editor.
  const draft = () =>
    attempt(async () => {
      const g = await appsApi.generateProfile(app.id, {});
      setGenerated(g);
      onProfiles();
    });
  const publish = () =>
    attempt(async () => {
      onChange(await server.publishApp(app.id));
      setNotice("Published.");
    });
  const badge = app.needsRepublish && (
    <span class="badge warn-badge" title={`Its devices get version ${app.profileVersion} of the profile; publish the app to move them to version ${app.newestProfileVersion}.`}>Needs republish</span>
  );
  const generateRefused = error && profileId === generate && error.target !== "enabled";
  return (
    <li class="app-card-portal" aria-labelledby={id + "-name"}>
      <h2 id={id + "-name"} class={heading ? "" : "sr-only"}>{heading ? <a href={"#/apps/" + encodeURIComponent(app.id)}>{app.displayName || app.name}</a> : app.displayName || app.name}
        {" "}<span class="muted">{kindLabels[app.kind]}</span>
        {heading && badge}</h2>
      <p class="muted">{!heading && badge}{!heading && badge && " "}{app.publishedOn ? `Published ${new Date(app.publishedOn).toLocaleString("en")}` : "Never published"}
        {app.offline && app.profileVersion ? ` · devices get profile version ${app.profileVersion}` : ""}
        {app.solutions.length > 0 && ` · in ${app.solutions.join(", ")}`}
        {heading && <> · <a class="edit-app" href={"#/apps/" + encodeURIComponent(app.id)}>{editLabel}</a></>}</p>
      <fieldset class="section">
        <legend>Settings → General</legend>
        <label class="choice"><input type="checkbox" name="offline" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} /> Can be used offline</label>
        {needsSolution && <p class="muted">A canvas app can be used offline only once it is in a solution: add it to one under Solutions, so its offline profile travels with it.</p>}
        {enabled && (
          <>
            <label for={id + "-profile"}>Offline profile <small>A published profile, or a new one made from the app.</small></label>
            <select id={id + "-profile"} name="profile" value={profileId} onChange={(e) => { setProfileId(e.currentTarget.value); setGenerated(null); }}>
              <option value="">Choose a profile…</option>
              {/* selected on each option: profiles may arrive after the select is drawn */}
              {published.map((p) => <option value={p.id} selected={p.id === profileId}>{p.name}</option>)}
              <option value={generate} selected={profileId === generate}>{generateLabels[app.kind]}</option>
            </select>
            {profileId === generate && <p class="muted generate-help">{app.kind === "canvas"
              ? "Save makes a profile of every table the app uses, with All rows, publishes it and makes it this app's profile."
              : "Save makes a profile from the app: its tables with the user's rows, and the tables its views and forms look up through those lookups; then publishes it and makes it this app's profile."}
              {" "}What could not be generated is listed here afterwards.</p>}
          </>
        )}
        {error && <p class="field-error" role="alert">{error.message}</p>}
        {generateRefused && <p><button class="link" onClick={draft}>Keep the generated profile as a draft to fix it</button></p>}
        {generated && <GeneratedReport g={generated} />}
        {notice && <p class="muted app-notice" role="status">{notice}</p>}
        <div class="actions">
          <button onClick={save}>Save</button>
          <button class="primary" onClick={publish}>Publish</button>
        </div>
      </fieldset>
    </li>
  );
}

/** GeneratedReport says what generate-profile made and what it could not. */
function GeneratedReport({ g }: { g: Generated }) {
  const link = <a href={"#/profiles/" + encodeURIComponent(g.profile.id)}>{g.profile.name}</a>;
  return (
    <div class="generated" role="status">
      {g.bound ? <p>Profile {link} was made from the app, published, and is now its offline profile.</p>
        : <p>Draft profile {link} was made from the app: fix it in the profile editor, publish it, then choose it here.</p>}
      {g.notGenerated.length > 0 ? (
        <>
          <p><strong>Could not be generated:</strong></p>
          <ul class="not-generated">{g.notGenerated.map((n) => <li>{n}</li>)}</ul>
        </>
      ) : <p class="muted">Everything the app uses was generated.</p>}
      {!g.bound && (g.validation?.errors.length ?? 0) > 0 && <ul class="problems">{g.validation!.errors.map((p) => <li>{p.message}</li>)}</ul>}
    </div>
  );
}
