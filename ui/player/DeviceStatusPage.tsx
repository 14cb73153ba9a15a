import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type DeviceStatus, type Schemas, type Session } from "../shared/api";
import { SyncIcon, stateLabel } from "../shared/SyncIcon";
import { formatBytes, formatTime, shortId } from "../shared/format";

/** DeviceStatusPage is everything about sync on this device. */
export function DeviceStatusPage({ status, onSignedOut }: { status: DeviceStatus; onSignedOut: (s: Session) => void }) {
  const [pending, setPending] = useState<Schemas["PendingList"] | null>(null);
  const [errors, setErrors] = useState<Schemas["SyncErrorItem"][]>([]);
  const [message, setMessage] = useState("");

  // The lists follow the counts the status events carry.
  useEffect(() => {
    api.pending().then(setPending, () => {});
  }, [status.pendingUploads, status.lastSync]);
  useEffect(() => {
    api.syncErrors().then((l) => setErrors(l.errors), () => {});
  }, [status.activeErrors, status.lastSync]);

  async function act(what: string, f: () => Promise<unknown>) {
    setMessage("");
    try {
      await f();
      setMessage(what);
    } catch (e) {
      setMessage((e as ApiError).message);
    }
  }
  const active = errors.filter((e) => !e.resolved);
  const p = status.progress;
  return (
    <main class="page status-page">
      <h1>Device status</h1>
      <section class="status-summary" aria-labelledby="sync-status">
        <SyncIcon state={status.state} size={40} />
        <div>
          <h2 id="sync-status" data-state={status.state}>
            {stateLabel[status.state]}
          </h2>
          <p>
            Network:{" "}
            <strong data-testid="network">
              {status.linked ? "connected to the server" : status.online ? "the server answered at the last sync; reconnecting the live link" : "no connection to the server"}
            </strong>
          </p>
          <p>
            Offline use: <strong>{status.ready ? "Available — the data is on this device" : "Not available yet — the first download is not finished"}</strong>
          </p>
          {status.syncing && p.phase && (
            <p aria-live="polite">
              Syncing ({p.phase}
              {p.table ? `, ${p.table}` : ""})…
            </p>
          )}
        </div>
      </section>
      <div class="actions" role="group" aria-label="Sync">
        <button class="primary" type="button" onClick={() => act("Sync started.", () => api.sync(false))}>
          Sync now
        </button>
        <button type="button" onClick={() => act("Refresh started: every row is checked against the server.", () => api.sync(true))}>
          Refresh
        </button>
        <button type="button" onClick={() => act("The app's definition was reloaded from the server.", () => api.checkUpdates())}>
          Check for updates
        </button>
      </div>
      {message && <p class="banner" role="status">{message}</p>}

      <section aria-labelledby="last-sync">
        <h2 id="last-sync">Last sync</h2>
        <dl class="facts">
          <dt>When</dt>
          <dd>{formatTime(status.lastSync)}</dd>
          <dt>Result</dt>
          <dd>{plainMessage(status)}</dd>
          {status.lastError && (
            <>
              <dt>Error</dt>
              <dd class="error-text">{status.lastError}</dd>
            </>
          )}
          <dt>Storage used</dt>
          <dd>{formatBytes(status.storageBytes)}</dd>
          <dt>Files and images</dt>
          <dd>
            {status.filesStored} on the device{status.filesMissing > 0 ? `, ${status.filesMissing} to download` : ""}
          </dd>
        </dl>
        {status.warnings.map((w) => (
          <p class="banner warn">{w}</p>
        ))}
      </section>

      <section aria-labelledby="pending">
        <h2 id="pending">
          Changes waiting to upload: <span data-testid="pending-count">{status.pendingUploads}</span>
        </h2>
        {pending && pending.changes.length > 0 ? (
          <ul class="pending-list">
            {pending.changes.map((c) => (
              <li>
                <strong>{c.op}</strong> {c.table} <code>{shortId(c.id)}</code>
                {c.columns && Object.keys(c.columns).length > 0 && <span class="muted"> — {Object.keys(c.columns).join(", ")}</span>}
                <span class="muted"> · {formatTime(c.time)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">Nothing waits: every change on this device is on the server.</p>
        )}
        {pending && pending.total > pending.changes.length && <p class="muted">and {pending.total - pending.changes.length} more.</p>}
      </section>

      <section aria-labelledby="sync-errors">
        <h2 id="sync-errors">
          Sync Errors: <span data-testid="error-count">{active.length}</span>
        </h2>
        {active.length === 0 && <p class="muted">No change was rejected.</p>}
        <ul class="error-list">
          {active.map((e) => (
            <li class="sync-error">
              <p>
                <strong>{e.type}</strong> on {e.op} of {e.table} <code>{shortId(e.rowId)}</code> · {formatTime(e.time)}
              </p>
              <p>{e.message}</p>
              <div class="actions">
                <button type="button" onClick={() => act("The change was applied again.", () => api.retryError(e.id).then((l) => setErrors(l.errors)))}>
                  Retry
                </button>
                <button type="button" onClick={() => act("The change was discarded.", () => api.discardError(e.id).then((l) => setErrors(l.errors)))}>
                  Discard
                </button>
              </div>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="tables">
        <h2 id="tables">Downloaded data</h2>
        <table class="rows compact">
          <thead>
            <tr>
              <th>Table</th>
              <th>Rows</th>
              <th>Last sync</th>
              <th>Next sync</th>
            </tr>
          </thead>
          <tbody>
            {status.tables.map((t) => (
              <tr>
                <td data-label="Table">{t.name}</td>
                <td data-label="Rows">{t.ready ? t.rows.toLocaleString() : `${t.rows.toLocaleString()} (downloading)`}</td>
                <td data-label="Last sync">{formatTime(t.lastSync)}</td>
                <td data-label="Next sync">
                  {formatTime(t.nextSync)} <span class="muted">(every {t.intervalMinutes} min)</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <p class="muted">
        Device {status.deviceId}.{" "}
        <button class="link" type="button" onClick={() => api.signOut().then(onSignedOut)}>
          Sign out
        </button>
      </p>
    </main>
  );
}

/** plainMessage says the last sync's outcome in words. */
function plainMessage(s: DeviceStatus): string {
  const m = s.lastMessage;
  if (!m) return "—";
  if (m.startsWith("offline:")) return "The server could not be reached. Your changes are kept on this device and upload when the connection is back.";
  const r = m.match(/^synced: (\d+) uploaded, (\d+) rejected, (\d+) rows downloaded, (\d+) removed/);
  if (r) {
    const [, up, rej, down, rem] = r.map(Number);
    const parts = [`${up} change${up === 1 ? "" : "s"} uploaded`, `${down} row${down === 1 ? "" : "s"} downloaded`];
    if (rem > 0) parts.push(`${rem} removed`);
    if (rej > 0) parts.push(`${rej} rejected by the server (see Sync Errors)`);
    return "Synced: " + parts.join(", ") + ".";
  }
  return m;
}
