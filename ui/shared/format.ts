// Formatting of local values for people.

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function formatTime(iso: string): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/**
 * shortId is the handle of an id where there is no room for all of it: its
 * last 8 characters. Ids are time-ordered (version 7 UUIDs), so ids made
 * within a minute share their first characters; the last are random.
 */
export function shortId(id: string): string {
  return "…" + id.slice(-8);
}

/** formatValue shows a column value by its type; lookups by their names. */
export function formatValue(type: string, v: unknown, names?: Record<string, string>): string {
  if (v === null || v === undefined || v === "") return "";
  switch (type) {
    case "boolean":
      return v ? "Yes" : "No";
    case "datetime":
      return formatTime(String(v));
    case "money":
      return typeof v === "number" ? v.toLocaleString([], { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : String(v);
    case "lookup":
    case "owner":
      return names?.[String(v)] ?? shortId(String(v));
  }
  return String(v);
}

/** systemColumns are the columns Outpost maintains: shown, never edited. */
export const systemColumns = new Set(["versionnumber", "createdon", "modifiedon", "createdby", "modifiedby", "owningbusinessunit", "owneridtype", "ownerid", "statecode", "statuscode"]);

/** label turns a column name into words: "scheduledstart" stays readable. */
export function label(name: string): string {
  const known: Record<string, string> = {
    name: "Name",
    customerid: "Customer",
    productid: "Product",
    description: "Description",
    scheduledstart: "Scheduled start",
    priority: "Priority",
    completed: "Completed",
    ownerid: "Owner",
    createdon: "Created on",
    modifiedon: "Modified on",
    estimatedhours: "Estimated hours",
    cost: "Cost",
    workorder: "Work order",
  };
  if (known[name]) return known[name];
  const s = name.replace(/id$/, "").replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}
