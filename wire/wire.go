// Package wire holds the device sync protocol types shared by the server
// (syncsrv, httpapi) and the device (client), and the checksum functions
// both sides must compute identically. The protocol is versioned by its
// route prefix; docs/protocol.md describes it.
package wire

// Version is the protocol version; routes live under Prefix.
const Version = 1

// Prefix is the route prefix of this protocol version.
const Prefix = "/api/sync/v1"

// ClientReportHeader carries, on a sync request, the device's side of its
// previous sync: "apply-ms=N, errors=N" (milliseconds it took to apply the
// previous reply to the local store, local errors met since). The server
// stores it on the telemetry event of the request that carries it.
const ClientReportHeader = "Outpost-Client-Report"

// Operations of a queued change.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
)

// Statuses of an uploaded change.
const (
	StatusApplied  = "applied"
	StatusRejected = "rejected"
)

// Sync Error types (the errortype choice of the syncerror table).
const (
	ErrorConflict      = 0
	ErrorNotFound      = 1
	ErrorAlreadyExists = 2
	ErrorOther         = 3
)

// Column is one column of a local table.
type Column struct {
	Name string `json:"name"`
	// Type is a schema.Type name ("text", "datetime", …).
	Type   string `json:"type"`
	Target string `json:"target,omitempty"`
	// What the server checks of a written value, so that the device refuses
	// at once an edit the server would refuse: required (on create, and never
	// null), the most characters of text, the options of a choice. A store
	// written before these were sent has none of them.
	Required  bool     `json:"required,omitempty"`
	MaxLength int      `json:"maxLength,omitempty"`
	Options   []Option `json:"options,omitempty"`
}

// Option is one value of a choice column.
type Option struct {
	Value int64  `json:"value"`
	Label string `json:"label"`
}

// Table describes one table of the device's download plan.
type Table struct {
	Name            string   `json:"name"`
	PrimaryKey      string   `json:"primaryKey"`
	Columns         []Column `json:"columns"`
	IntervalMinutes int      `json:"intervalMinutes"`
	// Rows is the number of rows the device will hold, counted at open.
	Rows int64 `json:"rows,omitempty"`
}

// OpenRequest registers (or re-registers) a device for an offline app.
type OpenRequest struct {
	// DeviceID is chosen by the device (a UUID), one per local store.
	DeviceID string `json:"deviceId"`
	AppID    string `json:"appId"`
}

// OpenResponse tells the device which profile and tables it serves.
type OpenResponse struct {
	DeviceID       string  `json:"deviceId"`
	UserID         string  `json:"userId"`
	AppID          string  `json:"appId"`
	ProfileID      string  `json:"profileId"`
	Kind           string  `json:"kind"`
	ProfileVersion int64   `json:"profileVersion"`
	Tables         []Table `json:"tables"`
	// TotalRows is the sum of Tables[i].Rows; MaxRows the per-device cap.
	TotalRows int64 `json:"totalRows"`
	MaxRows   int64 `json:"maxRows"`
}

// SnapshotRequest asks for the current rows of one table after a cursor,
// streamed as newline-delimited JSON SnapshotPages.
type SnapshotRequest struct {
	DeviceID string `json:"deviceId"`
	Table    string `json:"table"`
	// After is the primary key of the last row the device stored; "" for
	// the start of the table.
	After string `json:"after"`
	// PageSize is rows per page (default 2000, at most 10000).
	PageSize int `json:"pageSize,omitempty"`
	// MaxPages ends the stream after that many pages (0: until done).
	MaxPages int `json:"maxPages,omitempty"`
}

// SnapshotPage is one page of a table in primary key order.
type SnapshotPage struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Cursor is the primary key of the last row of the page.
	Cursor string `json:"cursor"`
	// Token is the sync token of the snapshot the page was read in.
	Token string `json:"token"`
	Done  bool   `json:"done"`
	// Error ends a stream that failed after it started.
	Error *ErrorDetail `json:"error,omitempty"`
}

// ErrorBody is the JSON error envelope of every error answer of the server
// and of the device agent: {"error":{"code":…,"message":…,"target":…}}.
// The device library reads the same type.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what was wrong (Code, one of outpost's error codes),
// in words a person can act on (Message), and where (Target: a column,
// parameter or field; empty when the request as a whole was wrong). A
// stream that fails after it started ends with one inside its last page.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

// TableState is the device's position in one table.
type TableState struct {
	Table string `json:"table"`
	Token string `json:"token"`
	// Check asks for the table's checksums: the device changed its copy
	// outside a delta (it removed a rejected change's row the server no
	// longer lets it hold), so its rows may differ from what its token
	// says.
	Check bool `json:"check,omitempty"`
}

// DeltaRequest asks what changed for the device since its tokens.
type DeltaRequest struct {
	DeviceID       string       `json:"deviceId"`
	ProfileVersion int64        `json:"profileVersion"`
	Tables         []TableState `json:"tables"`
	// Full asks for a checksum reconciliation of every table (full delta
	// sync and integrity check).
	Full bool `json:"full,omitempty"`
	// Limit caps the changed rows per table and response (default 5000).
	Limit int `json:"limit,omitempty"`
}

// DeltaResponse is what changed since the device's tokens.
type DeltaResponse struct {
	ProfileVersion int64 `json:"profileVersion"`
	// Tables is the plan's table set, sent only when it differs from the
	// device's (profile republished or privileges changed).
	Tables []Table      `json:"tables,omitempty"`
	Deltas []TableDelta `json:"deltas"`
}

// TableDelta is the change of one table. Either Reconcile is set (compare
// checksums, then call reconcile) or Upserts and Removes are the changes.
type TableDelta struct {
	Table   string   `json:"table"`
	Token   string   `json:"token"`
	Columns []string `json:"columns,omitempty"`
	Upserts [][]any  `json:"upserts,omitempty"`
	// Removes are ids of rows that left the device's scope and that it
	// held at its token (worked out on the server: a scope or clock
	// change).
	Removes []string `json:"removes,omitempty"`
	// RemoveKeys are the RemoveKey of rows deleted, or changed out of the
	// device's scope, since the token: the device removes its rows whose
	// key is listed. Keys rather than ids, because the server does not
	// know which of these rows the device held, and their ids would name
	// rows its user may never have been able to read.
	RemoveKeys []string `json:"removeKeys,omitempty"`
	// RemoveWhere are removals by rule, applied before Upserts: after a
	// scope change, every row the device holds whose column has one of
	// the values left its scope (rows changed since the token come again
	// in Upserts when they are still in scope).
	RemoveWhere []RemoveRule `json:"removeWhere,omitempty"`
	// More is set when Limit cut the changes: ask again from Token.
	More      bool       `json:"more,omitempty"`
	Reconcile *Checksums `json:"reconcile,omitempty"`
	// Reason says why the table is reconciled (for logs and status).
	Reason string `json:"reason,omitempty"`
}

// RemoveRule removes every local row whose Column holds one of Values.
type RemoveRule struct {
	Column string   `json:"column"`
	Values []string `json:"values"`
}

// Checksums are per-bucket sums of RowHash over the rows in scope.
type Checksums struct {
	Buckets int      `json:"buckets"`
	Sums    []uint64 `json:"sums"`
	Rows    int64    `json:"rows"`
}

// IDVersion is a row id with the version the device holds.
type IDVersion struct {
	ID      string `json:"i"`
	Version int64  `json:"v"`
}

// ReconcileRequest sends the device's rows of the buckets whose sums
// differed from the server's.
type ReconcileRequest struct {
	DeviceID string      `json:"deviceId"`
	Table    string      `json:"table"`
	Buckets  int         `json:"buckets"`
	Diff     []int       `json:"diff"`
	Have     []IDVersion `json:"have"`
}

// ReconcileResponse holds the rows to upsert and the ids to remove so the
// differing buckets equal the server's.
type ReconcileResponse struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns"`
	Upserts [][]any  `json:"upserts,omitempty"`
	Removes []string `json:"removes,omitempty"`
}

// Change is one queued local change.
type Change struct {
	Seq        int64  `json:"seq"`
	MutationID string `json:"mutationId"`
	Table      string `json:"table"`
	Op         string `json:"op"`
	ID         string `json:"id"`
	// BaseVersion is the version of the row the device changed (0 for creates).
	BaseVersion int64 `json:"baseVersion"`
	// Columns are the created row's columns, or the changed columns of an update.
	Columns map[string]any `json:"columns,omitempty"`
}

// UploadRequest sends queued changes in sequence order.
type UploadRequest struct {
	DeviceID string   `json:"deviceId"`
	Changes  []Change `json:"changes"`
}

// UploadResponse has one result per change, in order.
type UploadResponse struct {
	Results []Result `json:"results"`
}

// Result is the outcome of one change.
type Result struct {
	Seq    int64  `json:"seq"`
	Status string `json:"status"`
	// Version is the row's new version when applied.
	Version int64        `json:"version,omitempty"`
	Error   *ChangeError `json:"error,omitempty"`
	// Row is the server's current row when a rejected change's row is in
	// the device's scope (the device reverts to it); nil means remove it.
	Columns []string `json:"columns,omitempty"`
	Row     []any    `json:"row,omitempty"`
}

// ChangeError says why a change was rejected.
type ChangeError struct {
	Type        int    `json:"type"`
	Code        string `json:"code"`
	Message     string `json:"message"`
	SyncErrorID string `json:"syncErrorId,omitempty"`
}

// SyncError is one row of the Sync Error table.
type SyncError struct {
	ID          string `json:"syncerrorid"`
	Name        string `json:"name"`
	Table       string `json:"entityname"`
	Time        string `json:"errortime"`
	Message     string `json:"errormessage"`
	Code        string `json:"errorcode"`
	Type        int64  `json:"errortype"`
	Action      int64  `json:"action"`
	ActionData  string `json:"actiondata"`
	RequestData string `json:"requestdata,omitempty"`
	RegardingID string `json:"regardingobjectid"`
	OwnerID     string `json:"ownerid"`
	State       int64  `json:"statecode"`
	Status      int64  `json:"statuscode"`
	// ModifiedBy is the user who last retried or resolved the error; empty
	// while only the server wrote it.
	ModifiedBy string `json:"modifiedby,omitempty"`
}

// ErrorsResponse lists Sync Errors.
type ErrorsResponse struct {
	Errors []SyncError `json:"errors"`
}

// Settings are the environment's sync settings.
type Settings struct {
	// ConflictDetection turns on "server wins": a change to a row changed
	// on the server since the device's base version is rejected.
	ConflictDetection bool `json:"conflictDetection"`
}

// Hint is the data of a server-sent "change" event: tables that changed.
type Hint struct {
	Tables []string `json:"tables"`
}
