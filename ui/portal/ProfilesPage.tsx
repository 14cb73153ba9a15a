import { useEffect, useState } from "preact/hooks";
import { server, ServerError, type Profile } from "../shared/server";
import { go } from "./route";

/** profileState is a profile's state as the list shows it. */
export function profileState(p: Profile): string {
  if (!p.publishedVersion) return "Draft, never published";
  if (p.draft) return `Published (version ${p.publishedVersion}); draft has changes`;
  return `Published (version ${p.publishedVersion})`;
}

/** ProfilesPage is Mobile configuration: the offline profiles with their state. */
export function ProfilesPage() {
  const [profiles, setProfiles] = useState<Profile[] | null>(null);
  const [error, setError] = useState("");
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState("");
  useEffect(() => void server.profiles().then(setProfiles, (e: ServerError) => setError(e.message)), []);
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
          <thead><tr><th scope="col">Profile</th><th scope="col">State</th><th scope="col">Tables</th></tr></thead>
          <tbody>
            {profiles.map((p) => (
              <tr>
                <td><a href={"#/profiles/" + encodeURIComponent(p.id)}>{p.name}</a></td>
                <td data-label="State">{profileState(p)}</td>
                <td data-label="Tables">{p.items.length}</td>
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
