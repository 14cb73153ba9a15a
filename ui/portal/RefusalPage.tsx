/** RefusalPage is what a signed-in user without maker privileges sees. */
export function RefusalPage({ onSignOut }: { onSignOut: () => void }) {
  return (
    <main class="page narrow refusal">
      <h1>You cannot use the portal</h1>
      <p class="notice" role="alert">
        The portal is for makers: it needs the System Administrator, System Customizer or Environment Maker role,
        and your account has none of them. Field work is done in the Outpost player. Ask an administrator if you need
        to configure tables or offline profiles.
      </p>
      <button onClick={onSignOut}>Sign out</button>
    </main>
  );
}
