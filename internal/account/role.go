package account

import "slices"

// Role is what a user may do.
type Role string

// The roles.
const (
	// RoleAgent serves shoppers in the console.
	RoleAgent Role = "agent"
	// RoleLead is the after-sales lead: an agent who also approves or rejects refunds
	// and compensation.
	RoleLead Role = "lead"
	// RoleEditor edits the knowledge base.
	RoleEditor Role = "editor"
	// RoleAdmin manages users and tokens, and may do what agents and editors do.
	RoleAdmin Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleAgent, RoleLead, RoleEditor, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Acts reports whether a user of role r may act as one of roles: a role acts as itself,
// and a lead as an agent too, since a lead is an agent who also approves refunds.
func (r Role) Acts(roles ...Role) bool {
	for _, want := range roles {
		if r == want || (r == RoleLead && want == RoleAgent) {
			return true
		}
	}
	return false
}
