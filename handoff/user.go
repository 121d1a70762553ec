package handoff

import "time"

// Roles of users.
const (
	RoleAgent  = "agent"
	RoleEditor = "editor"
	RoleAdmin  = "admin"
)

// User is an agent, editor or admin who logs in to the console or the editor.
type User struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Group string `json:"group"`
	// MaxChats is how many chats the agent owns at once; 0 means DeskConfig.MaxChats.
	MaxChats int `json:"max_chats,omitempty"`
	// PassHash is the bcrypt hash of the password.
	PassHash string `json:"pass_hash,omitempty"`
}

// Session is a logged-in user's session, stored under the hash of its token.
type Session struct {
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
}
