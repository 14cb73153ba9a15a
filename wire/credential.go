package wire

import "time"

// DeviceCredential is the server's reply to a device sign-in (POST
// /api/auth/login in device mode, /api/auth/oidc/device/token) or refresh
// (/api/auth/refresh): a short-lived access token (a bearer token) and a
// refresh token that renews both, bound to the device.
type DeviceCredential struct {
	UserID           string    `json:"userid"`
	DeviceID         string    `json:"deviceid"`
	AccessToken      string    `json:"access_token"`
	AccessExpiresOn  time.Time `json:"access_expires_on"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresOn time.Time `json:"refresh_expires_on"`
	ExpiresInSeconds int64     `json:"expires_in"`
}
