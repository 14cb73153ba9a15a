import { useState } from "preact/hooks";

type Props = { error: string; onPassword: (username: string, password: string) => void; onToken: (t: string) => void };

/** SignInPage signs in with a user name and password (a session cookie), or with an API token. */
export function SignInPage({ error, onPassword, onToken }: Props) {
  const [mode, setMode] = useState<"password" | "token">("password");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [value, setValue] = useState("");
  const invalid = error ? "true" : undefined;
  return (
    <main class="page narrow signin">
      <h1>Sign in to the Outpost portal</h1>
      <p class="muted">Makers configure tables, offline profiles and apps here.</p>
      {mode === "password" ? (
        <form onSubmit={(e) => { e.preventDefault(); onPassword(username.trim(), password); }} aria-label="Sign in with a password">
          <label for="username">User name</label>
          <input id="username" name="username" type="text" autocomplete="username" required value={username}
            aria-invalid={invalid} onInput={(e) => setUsername(e.currentTarget.value)} />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required value={password}
            aria-invalid={invalid} aria-describedby={error ? "signin-error" : undefined} onInput={(e) => setPassword(e.currentTarget.value)} />
          {error && <p id="signin-error" class="field-error" role="alert">{error}</p>}
          <button type="submit" class="primary">Sign in</button>
        </form>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); if (value.trim()) onToken(value.trim()); }} aria-label="Sign in with a token">
          <label for="token">
            Token
            <small>Printed by <code>outpost demo</code>, or issued with <code>outpost admin token create</code>.</small>
          </label>
          <input id="token" name="token" type="password" autocomplete="off" required value={value}
            aria-invalid={invalid} aria-describedby={error ? "signin-error" : undefined} onInput={(e) => setValue(e.currentTarget.value)} />
          {error && <p id="signin-error" class="field-error" role="alert">{error}</p>}
          <button type="submit" class="primary">Sign in</button>
        </form>
      )}
      <p><button class="link" onClick={() => setMode(mode === "password" ? "token" : "password")}>
        {mode === "password" ? "Sign in with an API token instead" : "Sign in with a password instead"}
      </button></p>
    </main>
  );
}
