package client

// SetSearchBuild makes c's search index builds read chunk rows per
// transaction and run hook before each transaction after the first.
func SetSearchBuild(c *Client, chunk int64, hook func(table string)) {
	c.searchBuild = searchBuild{chunk: chunk, hook: hook}
}
