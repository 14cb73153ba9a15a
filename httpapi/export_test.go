package httpapi

// OpenAPI and EventTicket give the external tests the description the
// server serves and the reply of POST /api/sync/v1/events/ticket.
var OpenAPI = openAPI

type EventTicket = eventTicket
