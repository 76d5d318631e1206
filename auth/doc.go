// Package auth decides who a client of the API is and what it may do.
//
// It holds the pure parts of access control: the roles and permissions
// of the seed's authorization matrix (role.go), the principal a request
// is authenticated as (principal.go), the API keys file with expiry,
// rotation and revocation (keys.go), and the verification and minting of
// JWT bearer tokens (jwt.go). The api package runs these checks before it
// routes a request; the dsynth command uses the same code to make keys
// and tokens.
package auth
