import { useCallback, useEffect, useState } from "preact/hooks";
import { server, ServerError, type App } from "../shared/server";
import { formatTime } from "../shared/format";
import { ops, type DeviceInfo, type DeviceStore, type SyncEvent } from "./opsApi";

/** lastSync is a device's most recent sync over its stores. */
function lastSync(d: DeviceInfo): DeviceStore | undefined {
  return [...d.stores].sort((a, b) => b.lastsync.localeCompare(a.lastsync))[0];
}

const results: Record<string, string> = { "": "—", applied: "Uploaded", rejected: "Changes rejected" };
const kinds: Record<string, string> = { open: "Open", first: "First sync", delta: "Delta", full: "Full", reconcile: "Reconcile", upload: "Upload" };
const outcomes: Record<string, string> = { ok: "OK", error: "Error" };

/** lastTelemetry is the store with the most recent sync telemetry event. */
function lastTelemetry(d: DeviceInfo): DeviceStore | undefined {
  return d.stores.filter((s) => s.lastsyncat).sort((a, b) => (b.lastsyncat ?? "").localeCompare(a.lastsyncat ?? ""))[0];
}

/** RecentSyncs lists a device's latest sync telemetry events. */
function RecentSyncs({ device }: { device: DeviceInfo }) {
  const [events, setEvents] = useState<SyncEvent[] | null>(null);
  const [err, setErr] = useState("");
  useEffect(() => void ops.syncs(device.deviceid).then(setEvents, (e: ServerError) => setErr(e.message)), [device.deviceid]);
  if (err) return <p class="field-error" role="alert">{err}</p>;
  if (!events) return <p aria-busy="true">Loading…</p>;
  if (events.length === 0) return <p class="muted">No sync telemetry kept for this device.</p>;
  return (
    <table class="rows recent-syncs" aria-label={"Recent syncs of " + device.name}>
      <thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Outcome</th><th scope="col">Rows up / down</th><th scope="col">Duration</th></tr></thead>
      <tbody>{events.map((e) => (
        <tr class={e.outcome === "error" ? "sync-error" : undefined}>
          <td>{formatTime(e.at ?? "")}</td><td data-label="Kind" class="kind">{kinds[e.kind ?? ""] ?? e.kind}</td>
          <td data-label="Outcome" class="outcome">{outcomes[e.outcome ?? ""] ?? e.outcome}{e.errorcode ? ` (${e.errorcode})` : ""}</td>
          <td data-label="Rows" class="num">{e.rowsup} / {e.rowsdown}</td><td data-label="Duration" class="num">{Math.round(e.durationms ?? 0)} ms</td>
        </tr>))}</tbody>
    </table>
  );
}

/** DevicesPage lists the registered devices (administrators): last
 * contact, last sync and its result, pending uploads, active sync errors;
 * Revoke wipes a lost device. Other makers get the API's refusal. */
export function DevicesPage() {
  const [list, setList] = useState<DeviceInfo[] | null>(null);
  const [error, setError] = useState<ServerError | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const [users, setUsers] = useState<Record<string, string>>({});
  const [apps, setApps] = useState<App[]>([]);
  const [confirm, setConfirm] = useState<DeviceInfo | null>(null);
  // The same callback on every render: the confirmation's button takes focus
  // when it appears, and a re-render (the list refreshed) does not take it back.
  const focusOnMount = useCallback((el: HTMLButtonElement | null) => el?.focus(), []);
  const [rowError, setRowError] = useState<{ id: string; message: string } | null>(null);
  const [done, setDone] = useState("");
  const [open, setOpen] = useState("");
  const load = (revoked = showRevoked) => ops.devices(revoked).then(setList, (e: ServerError) => setError(e));
  useEffect(() => {
    load();
    server.users().then((rows) => setUsers(Object.fromEntries(rows.map((u) => [String(u.systemuserid), String(u.domainname)]))), () => setUsers({}));
    server.apps().then(setApps, () => setApps([]));
  }, []);
  if (error?.status === 403)
    return (
      <main class="page narrow refusal">
        <h1>Devices</h1>
        <p class="notice" role="alert">{error.message}. Every user's devices are for administrators (System Administrator).</p>
      </main>
    );
  const revoke = async (d: DeviceInfo) => {
    setRowError(null);
    setDone("");
    try {
      await ops.revoke(d.deviceid);
      setConfirm(null);
      setDone(`Revoked ${d.name} of ${users[d.userid] ?? d.userid}: its next request is refused and it deletes its data.`);
      load();
    } catch (x) {
      setRowError({ id: d.deviceid, message: (x as ServerError).message });
    }
  };
  const appName = (id: string) => apps.find((a) => a.id === id)?.name ?? id;
  return (
    <main class="page">
      <h1>Devices</h1>
      <p class="muted">Devices signed in with a password. Revoke one that is lost or stolen: its next sync is refused and it wipes its offline data.</p>
      <label class="choice"><input type="checkbox" name="revoked" checked={showRevoked} onChange={(e) => { setShowRevoked(e.currentTarget.checked); load(e.currentTarget.checked); }} /> Show revoked devices</label>
      {error && <p class="banner error" role="alert">{error.message}</p>}
      {done && <p class="banner" role="status">{done}</p>}
      {list && (list.length === 0 ? <p class="empty">No devices have signed in.</p> : (
        <table class="rows stack devices">
          <thead><tr><th scope="col">Device</th><th scope="col">User</th><th scope="col">Last contact</th><th scope="col">Last sync</th>
            <th scope="col">Last sync telemetry</th><th scope="col">Pending uploads</th><th scope="col">Sync errors</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            {list.map((d) => {
              const ls = lastSync(d);
              const lt = lastTelemetry(d);
              const errors = d.stores.reduce((n, s) => n + s.activesyncerrors, 0);
              const id = "dev-" + d.deviceid;
              return (
                <tr data-id={d.deviceid}>
                  <td id={id}>{d.name} <span class="muted">{d.platform}</span></td>
                  <td data-label="User">{users[d.userid] ?? d.userid}</td>
                  <td data-label="Last contact">{formatTime(d.lastcontact)}</td>
                  <td data-label="Last sync" class="last-sync">{ls ? `${formatTime(ls.lastsync)} · ${results[ls.lastsyncresult] ?? ls.lastsyncresult} · ${appName(ls.appid)}` : "Never"}</td>
                  <td data-label="Last sync telemetry" class="last-telemetry">
                    {lt ? <><span class="kind">{kinds[lt.lastsynckind] ?? lt.lastsynckind}</span> · <span class={"outcome " + lt.lastsyncoutcome}>{outcomes[lt.lastsyncoutcome] ?? lt.lastsyncoutcome}</span> · {formatTime(lt.lastsyncat ?? "")}</> : "None kept"}
                    <br /><button class="recent-syncs-toggle" aria-expanded={open === d.deviceid} aria-describedby={id}
                      onClick={() => setOpen(open === d.deviceid ? "" : d.deviceid)}>{open === d.deviceid ? "Hide recent syncs" : "Recent syncs"}</button>
                    {open === d.deviceid && <RecentSyncs device={d} />}
                  </td>
                  <td data-label="Pending uploads" class="num pending">{d.pendinguploads}</td>
                  <td data-label="Sync errors" class="num errors">{errors > 0 ? <a href="#/sync-errors">{errors}</a> : 0}</td>
                  <td>
                    {d.revokedon ? <span class="badge warn-badge">Revoked {formatTime(d.revokedon)}{d.revokedreason ? `: ${d.revokedreason}` : ""}</span>
                      : confirm?.deviceid === d.deviceid ? (
                        <div class="banner warn" role="alertdialog" aria-labelledby={id + "-confirm"}>
                          <p id={id + "-confirm"}>Revoke {d.name}? It cannot sync again, and deletes its data, changes not uploaded included.</p>
                          <div class="actions"><button class="danger primary confirm-revoke" ref={focusOnMount} onClick={() => revoke(d)}>Revoke</button><button onClick={() => setConfirm(null)}>Cancel</button></div>
                        </div>
                      ) : <button class="danger revoke" aria-describedby={id} onClick={() => setConfirm(d)}>Revoke</button>}
                    {rowError?.id === d.deviceid && <p class="field-error" role="alert">{rowError.message}</p>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ))}
    </main>
  );
}
