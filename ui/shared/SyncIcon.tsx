// The globe icon: one of the nine Connection.Sync states, drawn with one
// of six pictures (Globe, GlobeWarning, GlobeChangesPending, GlobeError,
// GlobeRefresh, GlobeNotConnected) and named in words for screen readers.
import type { SyncState } from "./api";

type Glyph = "Globe" | "GlobeWarning" | "GlobeChangesPending" | "GlobeError" | "GlobeRefresh" | "GlobeNotConnected";

export const glyphOf: Record<SyncState, Glyph> = {
  Connected: "Globe",
  ConnectedWithWarning: "GlobeWarning",
  NotConnectedWithWarning: "GlobeWarning",
  ConnectedPendingUpsync: "GlobeChangesPending",
  NotConnectedPendingUpsync: "GlobeChangesPending",
  ConnectedError: "GlobeError",
  NotConnectedSyncError: "GlobeError",
  ConnectedRefresh: "GlobeRefresh",
  NotConnected: "GlobeNotConnected",
};

export const stateLabel: Record<SyncState, string> = {
  Connected: "Connected, up to date",
  ConnectedWithWarning: "Connected, with a warning",
  ConnectedPendingUpsync: "Connected, changes waiting to upload",
  ConnectedError: "Connected, the last sync failed",
  ConnectedRefresh: "Connected, syncing",
  NotConnected: "Not connected",
  NotConnectedWithWarning: "Not connected, with a warning",
  NotConnectedPendingUpsync: "Not connected, changes waiting to upload",
  NotConnectedSyncError: "Not connected, the last sync failed",
};

function Badge({ glyph }: { glyph: Glyph }) {
  switch (glyph) {
    case "GlobeWarning":
      return (
        <g class="badge warn">
          <path d="M17 12.5 L23 23 H11 Z" />
          <path class="mark" d="M17 16.2 V19.4 M17 21 V21.3" />
        </g>
      );
    case "GlobeChangesPending":
      return (
        <g class="badge pending">
          <circle cx="17.5" cy="17.5" r="6" />
          <path class="mark" d="M17.5 21 V14.5 M15 17 L17.5 14.5 L20 17" />
        </g>
      );
    case "GlobeError":
      return (
        <g class="badge error">
          <circle cx="17.5" cy="17.5" r="6" />
          <path class="mark" d="M15.3 15.3 L19.7 19.7 M19.7 15.3 L15.3 19.7" />
        </g>
      );
    case "GlobeRefresh":
      return (
        <g class="badge refresh">
          <circle cx="17.5" cy="17.5" r="6" />
          <path class="mark spin" d="M20.6 16.3 A3.3 3.3 0 1 0 20.4 19.2 M20.8 13.9 V16.5 H18.2" />
        </g>
      );
    case "GlobeNotConnected":
      return <path class="slash" d="M3 3 L21 21" />;
  }
  return null;
}

export function SyncIcon({ state, size = 28 }: { state: SyncState; size?: number }) {
  const glyph = glyphOf[state];
  return (
    <svg class={`sync-icon ${glyph}${state.startsWith("NotConnected") ? " offline" : ""}`} width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" data-glyph={glyph}>
      <g class="globe">
        <circle cx="12" cy="12" r="9" />
        <ellipse cx="12" cy="12" rx="4" ry="9" />
        <path d="M3 12 H21 M4.6 7 H19.4 M4.6 17 H19.4" />
      </g>
      <Badge glyph={glyph} />
    </svg>
  );
}

/** SyncButton is the icon in the navigation bar; it opens Device status. */
export function SyncButton({ state, onOpen }: { state: SyncState; onOpen: () => void }) {
  return (
    <button class="sync-button" type="button" onClick={onOpen} data-state={state} aria-label={`Sync status: ${stateLabel[state]}. Open Device status`} title={stateLabel[state]}>
      <SyncIcon state={state} />
    </button>
  );
}
