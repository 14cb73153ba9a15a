import { useState } from "preact/hooks";
import { api, ApiError, checkFile, type Column, type Row } from "../shared/api";
import { label } from "../shared/format";

/**
 * FileField shows a row's image or file and takes a new one: a file
 * input, which on a phone opens the camera for an image column. The file
 * is stored on the device at once and uploads with the next sync.
 */
export function FileField({ table, id, col, row, readOnly, onStored }: { table: string; id: string; col: Column; row: Row; readOnly: boolean; onStored: (r: Row) => void }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [missing, setMissing] = useState(false);
  const fid = `f-${col.name}`;
  const fileId = typeof row[col.name] === "string" ? String(row[col.name]) : "";
  const isImage = col.type === "image";
  const url = fileId ? api.fileURL(table, id, col.name, fileId) : "";

  async function take(e: Event) {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    const refused = checkFile(col, file, label(col.name));
    if (refused) {
      setError(refused.message);
      return;
    }
    setBusy(true);
    setError("");
    try {
      setMissing(false);
      onStored(await api.putFile(table, id, col.name, file));
    } catch (err) {
      setError((err as ApiError).message);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    setError("");
    try {
      onStored(await api.removeFile(table, id, col.name));
    } catch (err) {
      setError((err as ApiError).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="file-field">
      {fileId && isImage && !missing && <img class="file-preview" src={url} alt={label(col.name)} onError={() => setMissing(true)} />}
      {fileId && !isImage && !missing && (
        <a class="file-link" href={url} download>
          Download {label(col.name).toLowerCase()}
        </a>
      )}
      {fileId && missing && <p class="hint">The {isImage ? "image" : "file"} is not on this device yet: it downloads with the next sync.</p>}
      {!fileId && <p class="hint">No {isImage ? "image" : "file"}.</p>}
      {!readOnly && id !== "new" && (
        <div class="file-actions">
          <label class="button" for={fid}>
            {busy ? "Storing…" : fileId ? `Replace ${isImage ? "image" : "file"}` : isImage ? "Take or choose a picture" : "Choose a file"}
          </label>
          {isImage ? (
            <input id={fid} class="visually-hidden" type="file" accept="image/*" capture="environment" onChange={take} disabled={busy} />
          ) : (
            <input id={fid} class="visually-hidden" type="file" onChange={take} disabled={busy} />
          )}
          {fileId && (
            <button type="button" onClick={remove} disabled={busy}>
              Remove
            </button>
          )}
        </div>
      )}
      {!readOnly && id === "new" && <p class="hint">Save the row first, then add the {isImage ? "image" : "file"}.</p>}
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
