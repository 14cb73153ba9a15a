import { useState } from "preact/hooks";

/** SignInPage takes a bearer token (outpost admin user token, or the demo's list). */
export function SignInPage({ error, onToken }: { error: string; onToken: (t: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <main class="page narrow signin">
      <h1>Sign in to the Outpost portal</h1>
      <p class="muted">Makers configure tables and offline profiles here. Sign in with your API token.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onToken(value.trim());
        }}
      >
        <label for="token">
          Token
          <small>Printed by <code>outpost demo</code>, or issued with <code>outpost admin user token</code>.</small>
        </label>
        <input id="token" name="token" type="password" autocomplete="off" required value={value}
          aria-invalid={error ? "true" : undefined} aria-describedby={error ? "token-error" : undefined}
          onInput={(e) => setValue(e.currentTarget.value)} />
        {error && <p id="token-error" class="field-error" role="alert">{error}</p>}
        <button type="submit" class="primary">Sign in</button>
      </form>
    </main>
  );
}
