import type { DeviceStatus } from "../shared/api";
import { formatBytes } from "../shared/format";

/** FirstSyncPage shows the first download; the app opens when it is done. */
export function FirstSyncPage({ status, appName }: { status: DeviceStatus; appName: string }) {
  const p = status.progress;
  const total = Math.max(p.totalRows, 1);
  const pct = p.phase === "first sync" ? Math.min(100, Math.round((p.rows / total) * 100)) : 0;
  const offline = !status.online && !status.syncing;
  return (
    <main class="page narrow first-sync">
      <h1>Getting {appName} ready</h1>
      <p>The app's data is being downloaded to this device. It opens when the download is complete, and works without a connection after that.</p>
      <div class="progress" role="progressbar" aria-label="First sync" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <div class="bar" style={{ width: `${pct}%` }} />
      </div>
      <p class="progress-text" aria-live="polite">
        {p.phase === "first sync"
          ? `${pct}% · ${p.rows.toLocaleString()} of ${p.totalRows.toLocaleString()} rows · table ${Math.min(p.tablesDone + 1, p.tables)} of ${p.tables} (${p.table}) · ${formatBytes(p.bytes)}`
          : p.phase
            ? `Finishing: ${p.phase}…`
            : "Starting…"}
      </p>
      {offline && (
        <p class="banner warn">
          No connection to the server. The download resumes where it stopped when the connection is back. {status.lastMessage}
        </p>
      )}
      {status.lastError && <p class="banner error">{status.lastError}</p>}
    </main>
  );
}
