import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type Schemas, type Session } from "../shared/api";

/** AppPickerPage lists the user's offline apps and opens one. */
export function AppPickerPage({ session, onOpened, onSignedOut }: { session: Session; onOpened: (s: Session) => void; onSignedOut: (s: Session) => void }) {
  const [list, setList] = useState<Schemas["AppList"] | null>(null);
  const [error, setError] = useState("");
  const [opening, setOpening] = useState("");

  useEffect(() => {
    api.apps().then(setList, (e: ApiError) => setError(e.message));
  }, []);

  async function open(id: string) {
    setOpening(id);
    setError("");
    try {
      onOpened(await api.openApp(id));
    } catch (e) {
      setError((e as ApiError).message);
      setOpening("");
    }
  }

  return (
    <main class="page narrow">
      <h1>Your apps</h1>
      <p class="muted">
        Signed in to {session.server} as {session.user}.{" "}
        <button class="link" type="button" onClick={() => api.signOut().then(onSignedOut)}>
          Sign out
        </button>
      </p>
      {list?.offline && <p class="banner warn">The server cannot be reached: these are the apps already on this device.</p>}
      {error && <p class="banner error" role="alert">{error}</p>}
      {!list && !error && <p aria-busy="true">Loading apps…</p>}
      <ul class="app-list">
        {list?.apps.map((a) => (
          <li>
            <button type="button" class="app-card" onClick={() => open(a.id)} disabled={!!opening}>
              <span class="app-name">{a.name}</span>
              <span class="muted">
                {a.kind === "modeldriven" ? "Model-driven app" : "Canvas app"} · {a.onDevice ? "data on this device" : "not downloaded yet"}
              </span>
              {opening === a.id && <span>Opening…</span>}
            </button>
          </li>
        ))}
      </ul>
      {list && list.apps.length === 0 && <p>No offline apps are shared with you.</p>}
    </main>
  );
}
