import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type Session } from "../shared/api";

type Method = "password" | "token";

/**
 * SignInPage asks for the server and then for credentials: the
 * organisation's single sign-on (where the server offers it), a user name
 * and password (where the server offers password sign-in), or a pasted
 * token. ssoError is why the last single sign-on failed.
 */
export function SignInPage({ server, ssoError, onSignedIn }: { server: string; ssoError: string; onSignedIn: (s: Session) => void }) {
  const [addr, setAddr] = useState(server || "http://127.0.0.1:8080");
  const [method, setMethod] = useState<Method>("token");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [providers, setProviders] = useState<string[]>([]);

  // The server's single sign-on providers, asked again when the address
  // settles.
  useEffect(() => {
    setProviders([]);
    if (!/^https?:\/\/[^/]+/.test(addr)) return;
    let live = true;
    const t = setTimeout(() => {
      api.signInProviders(addr).then(
        (l) => live && setProviders(l.providers.map((p) => p.name)),
        () => {},
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [addr]);

  async function sso() {
    setBusy(true);
    setError(null);
    try {
      const { url } = await api.startSSO(addr);
      window.location.assign(url);
    } catch (err) {
      setError(err as ApiError);
      setBusy(false);
    }
  }

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const req = method === "token" ? { server: addr, token } : { server: addr, username, password };
      onSignedIn(await api.signIn(req));
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }
  const fieldError = (t: string) => (error && error.target === t ? error.message : "");

  return (
    <main class="page narrow signin">
      <h1>Sign in to Outpost</h1>
      <form onSubmit={submit} noValidate>
        <label>
          Server address
          <input name="server" type="url" required value={addr} onInput={(e) => setAddr(e.currentTarget.value)} aria-invalid={!!fieldError("server")} />
        </label>
        {fieldError("server") && <p class="field-error">{fieldError("server")}</p>}
        {ssoError && !error && (
          <p class="field-error" role="alert">
            {ssoError}
          </p>
        )}
        {providers.map((name) => (
          <button type="button" class="primary sso" disabled={busy} onClick={sso}>
            Sign in with {name}
          </button>
        ))}
        {providers.length > 0 && <p class="muted or">or</p>}
        <div class="tabs" role="tablist" aria-label="How to sign in">
          {(["password", "token"] as Method[]).map((m) => (
            <button type="button" role="tab" aria-selected={method === m} onClick={() => setMethod(m)}>
              {m === "password" ? "User name and password" : "Token"}
            </button>
          ))}
        </div>
        {method === "password" ? (
          <>
            <label>
              User name
              <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
            </label>
            <label>
              Password
              <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
            </label>
          </>
        ) : (
          <label>
            Token
            <input name="token" autocomplete="off" spellcheck={false} value={token} onInput={(e) => setToken(e.currentTarget.value)} aria-invalid={!!fieldError("token")} />
            <small>An administrator issues tokens; <code>outpost demo</code> prints one per user.</small>
          </label>
        )}
        {error && error.target !== "server" && (
          <p class="field-error" role="alert">
            {error.message}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
