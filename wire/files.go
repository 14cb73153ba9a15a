package wire

// OpFile is the operation of a queued file change: its Columns hold one
// file or image column, set to the id of a file whose content the device
// staged with PUT {Prefix}/files/{id} before the upload, or to null to
// remove the column's file.
const OpFile = "file"

// Headers of the file routes.
const (
	// HeaderFileName carries a file's name on upload (percent-encoded
	// UTF-8 is accepted) and on download.
	HeaderFileName = "X-File-Name"
	// HeaderFileID and HeaderFileVersion identify a downloaded file.
	HeaderFileID      = "X-File-Id"
	HeaderFileVersion = "X-File-Version"
)

// MaxFilesRequest is the most file ids one FilesRequest may carry.
const MaxFilesRequest = 1000

// FileInfo describes one stored file: the row and column it belongs to,
// its name, MIME type and size, and the version of the write that stored
// it. A file id names immutable content: replacing a file makes a new id.
type FileInfo struct {
	ID       string `json:"fileId"`
	Table    string `json:"table"`
	RowID    string `json:"rowId"`
	Column   string `json:"column"`
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
	Version  int64  `json:"version"`
}

// FilesRequest asks for the descriptions of files the device lacks (the
// ids its rows hold in the profile's file and image columns).
type FilesRequest struct {
	DeviceID string   `json:"deviceId"`
	IDs      []string `json:"ids"`
}

// FilesResponse describes the files the device may download; Missing are
// ids the server no longer holds for it (replaced, deleted, out of scope):
// the next delta brings their rows' new values.
type FilesResponse struct {
	Files   []FileInfo `json:"files"`
	Missing []string   `json:"missing,omitempty"`
}
