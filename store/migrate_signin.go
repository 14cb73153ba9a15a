package store

// signinMigration holds sign-in: passwords, failed attempts, the kinds of
// bearer token, and the devices that signed in.
//
//   - outpost_token gains tokenid (the id that lists and revokes it), kind
//     (integration, session or device), deviceid (the signed-in device of a
//     device access token), expireson and lastused.
//   - outpost_password: one password hash per user (bcrypt).
//   - outpost_loginfailure: consecutive failed sign-ins per account and per
//     address, and until when further attempts are refused.
//   - outpost_signindevice: one row per signed-in device: its user, name,
//     platform, first and last contact, the pending upload count it
//     reported, and when it was revoked.
//   - outpost_refreshtoken: every refresh token a device was given; usedon
//     is set when it is exchanged, so a second use is recognised as a
//     replay.
//   - outpost_devicestore: the local stores (outpost_device) a signed-in
//     device opened.
//   - outpost_oidcnonce: the nonces of single sign-on ID tokens already
//     accepted, so that a replayed one is refused on every server.
var signinMigration = migration{10, "signin", []string{
	`ALTER TABLE outpost_token ADD COLUMN tokenid TEXT`,
	`ALTER TABLE outpost_token ADD COLUMN kind TEXT NOT NULL DEFAULT 'integration'`,
	`ALTER TABLE outpost_token ADD COLUMN deviceid TEXT`,
	`ALTER TABLE outpost_token ADD COLUMN expireson {ts}`,
	`ALTER TABLE outpost_token ADD COLUMN lastused {ts}`,
	`UPDATE outpost_token SET tokenid = substr(hash, 1, 16) WHERE tokenid IS NULL`,
	`CREATE UNIQUE INDEX IF NOT EXISTS ix_outpost_token_id ON outpost_token (tokenid)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_token_device ON outpost_token (deviceid)`,
	`CREATE TABLE IF NOT EXISTS outpost_password (userid TEXT PRIMARY KEY, hash TEXT NOT NULL, changedon {ts} NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS outpost_loginfailure (subject TEXT PRIMARY KEY, failures INTEGER NOT NULL, lastfailure {ts} NOT NULL, lockeduntil {ts})`,
	`CREATE TABLE IF NOT EXISTS outpost_signindevice (deviceid TEXT PRIMARY KEY, userid TEXT NOT NULL, name TEXT NOT NULL, platform TEXT NOT NULL, createdon {ts} NOT NULL, lastseen {ts} NOT NULL, pending {bigint} NOT NULL DEFAULT 0, revokedon {ts}, revokedreason TEXT)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_signindevice_user ON outpost_signindevice (userid)`,
	`CREATE TABLE IF NOT EXISTS outpost_refreshtoken (hash TEXT PRIMARY KEY, deviceid TEXT NOT NULL, createdon {ts} NOT NULL, expireson {ts} NOT NULL, usedon {ts}, replacedby TEXT)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_refreshtoken_device ON outpost_refreshtoken (deviceid)`,
	`CREATE TABLE IF NOT EXISTS outpost_devicestore (storeid TEXT PRIMARY KEY, deviceid TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS ix_outpost_devicestore_device ON outpost_devicestore (deviceid)`,
	`CREATE TABLE IF NOT EXISTS outpost_oidcnonce (nonce TEXT PRIMARY KEY, usedon {ts} NOT NULL)`,
}}

// deviceSignInMigration holds single sign-on for devices (native apps'
// loopback redirect, RFC 8252):
//
//   - outpost_oidcdevicerequest: a device's sign-in in progress at the
//     identity provider, keyed by the hash of the state Outpost sent the
//     provider, with the nonce and PKCE verifier of that request, the
//     device's loopback redirect URI, its own state and code challenge.
//     Any server sharing the database takes the provider's callback.
//   - outpost_devicecode: the one-time codes handed to a device's
//     loopback redirect (hashed), the user they stand for, the device's
//     code challenge, their expiry and when they were used.
var deviceSignInMigration = migration{17, "devicesignin", []string{
	`CREATE TABLE IF NOT EXISTS outpost_oidcdevicerequest (state TEXT PRIMARY KEY, nonce TEXT NOT NULL, verifier TEXT NOT NULL, redirecturi TEXT NOT NULL, devicestate TEXT NOT NULL, challenge TEXT NOT NULL, expireson {ts} NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS outpost_devicecode (hash TEXT PRIMARY KEY, userid TEXT NOT NULL, challenge TEXT NOT NULL, expireson {ts} NOT NULL, usedon {ts})`,
}}
