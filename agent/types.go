package agent

// The local API's bodies. openapi.json describes each of them under the
// same name; TestOpenAPIMatchesGo keeps the two in step.

// Session is who is signed in and which app is open.
type Session struct {
	SignedIn bool   `json:"signedIn"`
	Server   string `json:"server"`
	User     string `json:"user"`
	AppID    string `json:"appId"`
	AppName  string `json:"appName"`
	// SignInError is why the last single sign-on failed, in plain words;
	// empty once a sign-in starts again or succeeds.
	SignInError string `json:"signInError,omitempty"`
}

// SignInProvider is a single sign-on provider the server offers.
type SignInProvider struct {
	Name string `json:"name"`
}

// SignInProviders lists the server's single sign-on providers (none when
// it offers only passwords and tokens).
type SignInProviders struct {
	Providers []SignInProvider `json:"providers"`
}

// SSORequest starts a single sign-on with a server.
type SSORequest struct {
	Server string `json:"server"`
}

// SSOStart is where the browser goes next: the server's single sign-on,
// which comes back to the agent's /signin/callback.
type SSOStart struct {
	URL string `json:"url"`
}

// SignInRequest signs in with a token, or with a user name and password
// on servers that offer password sign-in.
type SignInRequest struct {
	Server   string `json:"server"`
	Token    string `json:"token"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// AppSummary is one offline app in the app picker.
type AppSummary struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	ProfileID string `json:"profileId"`
	// OnDevice says the app's data is on this device.
	OnDevice bool `json:"onDevice"`
}

// AppList lists the apps; Offline says the list is the device's own
// (the server was not reached).
type AppList struct {
	Apps    []AppSummary `json:"apps"`
	Offline bool         `json:"offline"`
}

// Column is one column of a local table, with what the server checks of
// a written value (the device checks the same before it queues an edit).
type Column struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Target    string   `json:"target"`
	Required  bool     `json:"required"`
	MaxLength int      `json:"maxLength"`
	Options   []Option `json:"options"`
}

// Option is one value of a choice column.
type Option struct {
	Value int64  `json:"value"`
	Label string `json:"label"`
}

// TableDef is a local table.
type TableDef struct {
	Name       string   `json:"name"`
	PrimaryKey string   `json:"primaryKey"`
	Columns    []Column `json:"columns"`
}

// View is a list of a table's rows: its columns, filter (OData text),
// default order and the columns quick search looks in.
type View struct {
	Name          string   `json:"name"`
	Table         string   `json:"table"`
	Columns       []string `json:"columns"`
	Filter        string   `json:"filter"`
	OrderBy       string   `json:"orderBy"`
	SearchColumns []string `json:"searchColumns"`
}

// Form is the fields of a table's row, grouped in sections; Required
// and ReadOnly name columns of the form.
type Form struct {
	Name     string    `json:"name"`
	Table    string    `json:"table"`
	Columns  []string  `json:"columns"`
	Sections []Section `json:"sections"`
	Required []string  `json:"required"`
	ReadOnly []string  `json:"readOnly"`
}

// Section is a titled group of a form's columns.
type Section struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
}

// AppDefinition is the open app: its views, forms and tables.
type AppDefinition struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Kind   string     `json:"kind"`
	Views  []View     `json:"views"`
	Forms  []Form     `json:"forms"`
	Tables []TableDef `json:"tables"`
	// Canvas is set for a canvas app: its web bundle, hosted by the player.
	Canvas *CanvasInfo `json:"canvas,omitempty"`
}

// CanvasInfo is a canvas app's bundle on this device. URL opens its
// index.html (valid while this agent runs); Bundle is false when the maker
// has not uploaded one yet; OfflineEnabled is the app's offline switch.
type CanvasInfo struct {
	Bundle         bool   `json:"bundle"`
	URL            string `json:"url"`
	OfflineEnabled bool   `json:"offlineEnabled"`
}

// Progress is the running sync's progress.
type Progress struct {
	Phase      string `json:"phase"`
	Table      string `json:"table"`
	TablesDone int    `json:"tablesDone"`
	Tables     int    `json:"tables"`
	Rows       int64  `json:"rows"`
	TotalRows  int64  `json:"totalRows"`
	Bytes      int64  `json:"bytes"`
	Files      int    `json:"files"`
	FilesTotal int    `json:"filesTotal"`
}

// TableStatus is one table on the Device status page.
type TableStatus struct {
	Name            string `json:"name"`
	Rows            int64  `json:"rows"`
	Ready           bool   `json:"ready"`
	IntervalMinutes int    `json:"intervalMinutes"`
	LastSync        string `json:"lastSync"`
	NextSync        string `json:"nextSync"`
}

// DeviceStatus is the Device status page and the globe icon's state.
type DeviceStatus struct {
	// State is one of the nine Connection.Sync values.
	State string `json:"state"`
	// Online is the last contact's outcome; Linked says the server's
	// change stream is connected now.
	Online         bool          `json:"online"`
	Linked         bool          `json:"linked"`
	Syncing        bool          `json:"syncing"`
	Ready          bool          `json:"ready"`
	PendingUploads int           `json:"pendingUploads"`
	ActiveErrors   int           `json:"activeErrors"`
	StorageBytes   int64         `json:"storageBytes"`
	LastSync       string        `json:"lastSync"`
	LastMessage    string        `json:"lastMessage"`
	LastError      string        `json:"lastError"`
	Progress       Progress      `json:"progress"`
	FilesStored    int           `json:"filesStored"`
	FilesMissing   int           `json:"filesMissing"`
	Warnings       []string      `json:"warnings"`
	Tables         []TableStatus `json:"tables"`
	DeviceID       string        `json:"deviceId"`
}

// RowPage is one page of a view.
type RowPage struct {
	Rows  []map[string]any `json:"rows"`
	Total int64            `json:"total"`
	// More says that total is a lower bound: a quick search stopped
	// counting at the agent's cap (Options.SearchCountCap).
	More bool `json:"more,omitempty"`
	Skip int  `json:"skip"`
	// Names are the display names of the rows the page's lookups name.
	Names map[string]string `json:"names"`
}

// RowValues are column values to create or change a row with.
type RowValues struct {
	Values map[string]any `json:"values"`
}

// Created names a new row.
type Created struct {
	ID string `json:"id"`
}

// PendingChange is a queued change.
type PendingChange struct {
	Seq     int64          `json:"seq"`
	Table   string         `json:"table"`
	ID      string         `json:"id"`
	Op      string         `json:"op"`
	Columns map[string]any `json:"columns"`
	Time    string         `json:"time"`
}

// PendingList is the upload queue.
type PendingList struct {
	Changes []PendingChange `json:"changes"`
	Total   int             `json:"total"`
}

// SyncErrorItem is one change the server rejected.
type SyncErrorItem struct {
	ID       string `json:"id"`
	Table    string `json:"table"`
	RowID    string `json:"rowId"`
	Op       string `json:"op"`
	Type     string `json:"type"`
	Message  string `json:"message"`
	Time     string `json:"time"`
	Resolved bool   `json:"resolved"`
}

// SyncErrorList is the device's Sync Errors.
type SyncErrorList struct {
	Errors []SyncErrorItem `json:"errors"`
}

// SyncRequest starts a sync; Full re-checks every row by checksums
// (Refresh).
type SyncRequest struct {
	Full bool `json:"full"`
}
