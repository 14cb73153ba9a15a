import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "../shared/styles.css";
import { api, ApiError, watchStatus, type AppDefinition, type DeviceStatus, type Session } from "../shared/api";
import { SyncButton } from "../shared/SyncIcon";
import { SignInPage } from "./SignInPage";
import { AppPickerPage } from "./AppPickerPage";
import { FirstSyncPage } from "./FirstSyncPage";
import { ViewPage } from "./ViewPage";
import { FormPage } from "./FormPage";
import { DeviceStatusPage } from "./DeviceStatusPage";
import { CanvasPage } from "./CanvasPage";
import { go } from "./route";

/** useRoute follows the address's #/… part. */
function useRoute(): string[] {
  const parse = () => (location.hash.replace(/^#\/?/, "") || "").split("/").map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}


function NoSessionPage({ message }: { message: string }) {
  return (
    <main class="page narrow">
      <h1>Outpost</h1>
      <p class="notice">{message}</p>
    </main>
  );
}

function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | null>(null);
  const [fatal, setFatal] = useState("");
  const [app, setApp] = useState<AppDefinition | null>(null);
  const [status, setStatus] = useState<DeviceStatus | null>(null);
  const [agentDown, setAgentDown] = useState(false);

  useEffect(() => {
    api.session().then(setSession, (e: ApiError) => setFatal(e.message));
  }, []);

  const appId = session?.appId ?? "";
  useEffect(() => {
    if (!appId) {
      setApp(null);
      setStatus(null);
      return;
    }
    api.app().then(setApp, (e: ApiError) => setFatal(e.message));
    return watchStatus(setStatus, setAgentDown);
  }, [appId]);

  if (fatal) return <NoSessionPage message={fatal} />;
  if (!session) return <main class="page narrow" aria-busy="true"><p>Loading…</p></main>;
  if (!session.signedIn) return <SignInPage server={session.server} ssoError={session.signInError ?? ""} onSignedIn={setSession} />;
  if (!session.appId || route[0] === "apps")
    return (
      <AppPickerPage
        session={session}
        onOpened={(s) => {
          setSession(s);
          go("");
        }}
        onSignedOut={setSession}
      />
    );
  if (!app || !status) return <main class="page narrow" aria-busy="true"><p>Opening {session.appName}…</p></main>;

  let page;
  if (route[0] === "status") page = <DeviceStatusPage status={status} onSignedOut={setSession} />;
  else if (!status.ready) page = <FirstSyncPage status={status} appName={app.name} />;
  else if (app.canvas) page = <CanvasPage app={app} sync={status.state} />;
  else if (route[0] === "form" && route[1]) page = <FormPage key={route.join("/")} app={app} table={route[1]} id={route[2] ?? "new"} />;
  else {
    const view = app.views.find((v) => v.name === route[1]) ?? app.views[0];
    page = view ? <ViewPage key={view.name} app={app} view={view} /> : <p class="page">This app has no views.</p>;
  }
  const current = route[0] === "view" ? route[1] : route[0] === "" ? app.views[0]?.name : "";
  return (
    <>
      <header class="navbar">
        <a class="brand" href="#/" title="Home">
          {app.name}
        </a>
        {!app.canvas && (
          <nav aria-label="Views" class="views">
            {app.views.map((v) => (
              <a href={`#/view/${encodeURIComponent(v.name)}`} aria-current={current === v.name ? "page" : undefined}>
                {v.name}
              </a>
            ))}
          </nav>
        )}
        <a class="switch" href="#/apps">
          Apps
        </a>
        {/* A canvas app shows the globe in its Offline template. */}
        {!app.canvas && <SyncButton state={status.state} onOpen={() => go("status")} />}
      </header>
      {agentDown && (
        <p class="banner error" role="alert">
          The device agent is not answering. Is <code>outpost device serve</code> still running?
        </p>
      )}
      {page}
    </>
  );
}

render(<App />, document.getElementById("root")!);
