package httpapi

// offlineRoutes registers /api/offline/... (profiles, apps, solutions).
func (s *Server) offlineRoutes() {}
