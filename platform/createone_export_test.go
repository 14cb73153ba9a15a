package platform

// OneStatementCreates returns how many creates of p ran as one statement.
func OneStatementCreates(p *Platform) uint64 { return p.oneStatementCreates.Load() }
