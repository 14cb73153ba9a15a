// The messages between the player and a canvas app's frame. The frame
// posts a Call; the player answers with a Reply of the same id, and sends
// Hello (after the frame's Ready) and Sync (on every change of state).
import type { SyncState } from "../shared/api";

export type Op = "list" | "get" | "create" | "update" | "delete" | "getFile" | "putFile" | "removeFile" | "showHostInfo";

// A file crosses the frame's boundary as a Blob (a File is one), which
// postMessage copies; getFile answers a StoredFile.
export type Call = {
  outpost: "call";
  id: number;
  op: Op;
  table?: string;
  rowId?: string;
  values?: Record<string, unknown>;
  query?: ListQuery;
  info?: string;
  column?: string;
  file?: Blob;
  name?: string;
};
export type ListQuery = { view?: string; search?: string; orderby?: string; skip?: number; top?: number };
export type HostError = { status: number; code: string; message: string; target: string };
export type Reply = { outpost: "reply"; id: number; ok: boolean; value?: unknown; error?: HostError };
export type Ready = { outpost: "ready" };
export type Hello = { outpost: "hello"; offlineEnabled: boolean; sync: SyncState; appName: string; tables: string[] };
export type Sync = { outpost: "sync"; sync: SyncState };

export type ToPlayer = Call | Ready;
export type ToFrame = Reply | Hello | Sync;
