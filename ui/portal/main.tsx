import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "../shared/styles.css";
import "./portal.css";
import { server, token, ServerError, type Whoami } from "../shared/server";
import { useRoute } from "./route";
import { SignInPage } from "./SignInPage";
import { RefusalPage } from "./RefusalPage";
import { TablesPage, TablePage } from "./TablesPage";
import { ProfilesPage } from "./ProfilesPage";
import { ProfileEditorPage } from "./ProfileEditorPage";
import { AppsPage } from "./AppsPage";
import { AppEditorPage } from "./AppEditorPage";
import { SolutionsPage, SolutionPage } from "./SolutionsPage";
import { SyncErrorsPage } from "./SyncErrorsPage";
import { DevicesPage } from "./DevicesPage";
import { SecurityPage } from "./SecurityPage";

const sections = [
  { path: "profiles", label: "Offline profiles" },
  { path: "tables", label: "Tables" },
  { path: "apps", label: "Apps" },
  { path: "solutions", label: "Solutions" },
  { path: "sync-errors", label: "Sync errors" },
  { path: "devices", label: "Devices" },
  { path: "security", label: "Security" },
];

/** canMake: the portal is for makers: System Administrator, System Customizer, Environment Maker. */
function canMake(me: Whoami): boolean {
  return me.admin || me.customizer;
}

function App() {
  const route = useRoute();
  const [me, setMe] = useState<Whoami | null>(null);
  const [checking, setChecking] = useState(true);
  const [error, setError] = useState("");

  // Signed in already when a token is kept or the session cookie is valid.
  const load = () => {
    setChecking(true);
    server.whoami().then(
      (w) => {
        setMe(w);
        setChecking(false);
      },
      (e: ServerError) => {
        if (token.get()) setError(e.status === 401 ? "That token is not valid: check it and sign in again." : e.message);
        token.clear();
        setChecking(false);
      },
    );
  };
  useEffect(load, []);

  const signOut = async () => {
    if (token.get()) token.clear();
    else await server.logout().catch(() => undefined);
    setMe(null);
    location.hash = "";
  };

  if (checking) return <main class="page narrow" aria-busy="true"><p>Signing in…</p></main>;
  if (!me)
    return (
      <SignInPage
        error={error}
        onPassword={async (u, p) => {
          setError("");
          try {
            await server.login(u, p);
            load();
          } catch (e) {
            setError((e as ServerError).message);
          }
        }}
        onToken={(t) => {
          token.set(t);
          setError("");
          load();
        }}
      />
    );
  if (!canMake(me)) return <RefusalPage onSignOut={signOut} />;

  const [section = "profiles", id] = route;
  let page;
  if (section === "apps") page = id ? <AppEditorPage id={id} /> : <AppsPage />;
  else if (section === "solutions") page = id ? <SolutionPage name={id} /> : <SolutionsPage />;
  else if (section === "sync-errors") page = <SyncErrorsPage />;
  else if (section === "devices") page = <DevicesPage />;
  else if (section === "security") page = <SecurityPage me={me} route={route.slice(1)} />;
  else if (section === "tables") page = id ? <TablePage name={id} /> : <TablesPage />;
  else page = id ? <ProfileEditorPage id={id} /> : <ProfilesPage />;
  return (
    <>
      <header class="navbar">
        <a class="brand" href="#/">Outpost portal</a>
        <nav class="views" aria-label="Portal">
          {sections.map((s) => (
            <a href={"#/" + s.path} aria-current={section === s.path ? "page" : undefined}>{s.label}</a>
          ))}
        </nav>
        <button class="link switch" onClick={signOut}>Sign out</button>
      </header>
      {page}
    </>
  );
}

render(<App />, document.getElementById("root")!);
