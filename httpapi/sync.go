package httpapi

// syncRoutes registers /api/sync/... (the device protocol).
func (s *Server) syncRoutes() {}
