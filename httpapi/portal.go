package httpapi

import "net/http"

// portalRoutes serves the maker portal's static files under /portal/. The
// files need no token: the portal signs in and does everything through the
// API routes, with the privileges of the signed-in user.
func (s *Server) portalRoutes() {
	files := http.StripPrefix("/portal", http.FileServerFS(s.portal))
	s.HandlePublic("GET /portal/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; frame-ancestors 'none'")
		files.ServeHTTP(w, r)
	}))
	s.HandlePublic("GET /portal", http.RedirectHandler("/portal/", http.StatusMovedPermanently))
}
