package httpapi

import (
	"fmt"
	"net/http"

	"github.com/klauspost/compress/gzhttp"

	"github.com/outposthq/outpost/wire"
)

// compressedTypes are the responses Compress compresses: JSON replies and
// snapshot pages. Files keep their own encoding (images are compressed
// already) and change-hint streams are small events that must not wait in
// an encoder.
var compressedTypes = []string{"application/json", wire.NDJSONContentType, wire.PagesContentType}

// Compress wraps h so that responses of compressedTypes of at least 1 KiB
// are compressed with zstd or gzip, as the request's Accept-Encoding
// allows (zstd preferred at equal quality), through klauspost/compress.
// Streamed snapshot pages are compressed as they are flushed.
func Compress(h http.Handler) (http.Handler, error) {
	wrapper, err := gzhttp.NewWrapper(gzhttp.ContentTypes(compressedTypes), gzhttp.MinSize(1024))
	if err != nil {
		return nil, fmt.Errorf("compression: %w", err)
	}
	return wrapper(h), nil
}
