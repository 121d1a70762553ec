// Package secret makes the random secrets Kefu hands out (a shopper's conversation
// token, session and API tokens, random ids and passwords) and the hash that the stores
// keep of a bearer token instead of the token.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// New returns prefix and 16 random bytes in URL-safe base64.
func New(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b) // never returns an error
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Hash is what a store keeps of a bearer token: its SHA-256, in hex.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Matches reports whether token is the one whose Hash is hash, in a time that does not
// depend on where they differ.
func Matches(hash, token string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(Hash(token))) == 1
}
