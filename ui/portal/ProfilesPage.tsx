import { useEffect, useState } from "preact/hooks";
import { server, ServerError, type Profile } from "../shared/server";
import { go } from "./route";
import { profileApi } from "./profileApi";

/** profileState is a profile's state as the list shows it. */
export function profileState(p: Profile): string {
  if (!p.publishedVersion) return "Draft, never published";
  if (p.draft) return `Published (version ${p.publishedVersion}); draft has changes`;
  return `Published (version ${p.publishedVersion})`;
}

/** attention says why a profile needs the maker's attention, or "". */
function attention(p: Profile, republish: Set<string>): string {
  if (p.draft && !p.validated) return "Needs attention: the draft has not been validated";
  if (republish.has(p.id)) return "Needs attention: an app using it needs republishing";
  return "";
}

/** ProfilesPage is Mobile configuration: the offline profiles with their state. */
export function ProfilesPage() {
  const [profiles, setProfiles] = useState<Profile[] | null>(null);
  const [error, setError] = useState("");
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState("");
  const [republish, setRepublish] = useState(new Set<string>());
  const [rowError, setRowError] = useState<{ id: string; message: string } | null>(null);
  const load = () => server.profiles().then(setProfiles, (e: ServerError) => setError(e.message));
  useEffect(() => {
    load();
    server.apps().then((apps) => setRepublish(new Set(apps.filter((a) => a.needsRepublish && a.profileId).map((a) => a.profileId!))), () => {});
  }, []);
  const clone = async (p: Profile) => {
    setRowError(null);
    try {
      const c = await profileApi.clone(p.id, `Copy of ${p.name}`);
      go("profiles", c.id);
    } catch (x) {
      setRowError({ id: p.id, message: (x as ServerError).message });
    }
  };
  const remove = async (p: Profile) => {
    setRowError(null);
    if (!confirm(`Delete the profile "${p.name}"? Devices of apps using it lose it; the server refuses while an app uses it.`)) return;
    try {
      await profileApi.remove(p.id);
      await load();
    } catch (x) {
      setRowError({ id: p.id, message: (x as ServerError).message });
    }
  };
  const create = async (e: Event) => {
    e.preventDefault();
    setCreateError("");
    try {
      const p = await server.createProfile({ name });
      go("profiles", p.id);
    } catch (x) {
      setCreateError((x as ServerError).message);
    }
  };
  return (
    <main class="page">
      <h1>Offline profiles</h1>
      <p class="muted">A profile says which rows of which tables a user's device holds. Devices only get published versions.</p>
      {error && <p class="banner error" role="alert">{error}</p>}
      {profiles && (
        <table class="rows">
          <thead><tr><th scope="col">Profile</th><th scope="col">State</th><th scope="col">Tables</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {profiles.map((p) => (
              <tr>
                <td><a href={"#/profiles/" + encodeURIComponent(p.id)}>{p.name}</a></td>
                <td data-label="State">{profileState(p)}{attention(p, republish) && <span class="badge warn-badge attention"> {attention(p, republish)}</span>}</td>
                <td data-label="Tables">{p.items.length}</td>
                <td data-label="Actions" class="row-actions">
                  <button type="button" class="clone" onClick={() => clone(p)} aria-label={`Clone ${p.name}`}>Clone</button>{" "}
                  <button type="button" class="danger delete" onClick={() => remove(p)} aria-label={`Delete ${p.name}`}>Delete</button>
                  {rowError?.id === p.id && <p class="field-error" role="alert">{rowError.message}</p>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>New profile</h2>
      <form class="inline-form" onSubmit={create} aria-label="New profile">
        <div class="grow"><label for="np-name">Name</label>
          <input id="np-name" name="name" required maxLength={255} value={name} onInput={(e) => setName(e.currentTarget.value)}
            aria-invalid={createError ? "true" : undefined} aria-describedby={createError ? "np-error" : undefined} /></div>
        <div><button type="submit" class="primary">Create profile</button></div>
      </form>
      {createError && <p id="np-error" class="field-error" role="alert">{createError}</p>}
    </main>
  );
}
