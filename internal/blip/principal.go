package blip

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    string
	SessionID string
	Role      Role
}

// Authorisation rules live here, in one place, so handlers and stores never
// decide permissions themselves.

// requireUser fails with not_authenticated for an anonymous caller.
func requireUser(p *Principal) error {
	if p == nil || p.UserID == "" {
		return Errorf(CodeNotAuthenticated, "Authentication credentials were not provided.")
	}
	return nil
}

// requireAdmin fails unless the caller is an admin.
func requireAdmin(p *Principal) error {
	if err := requireUser(p); err != nil {
		return err
	}
	if p.Role != RoleAdmin {
		return Errorf(CodePermissionDenied, "You do not have permission to perform this action.")
	}
	return nil
}

// canDeleteBlip reports whether the caller may delete b: its author, a
// moderator or an admin.
func canDeleteBlip(p *Principal, b *Blip) error {
	if err := requireUser(p); err != nil {
		return err
	}
	if p.UserID == b.AuthorID || p.Role == RoleModerator || p.Role == RoleAdmin {
		return nil
	}
	return Errorf(CodePermissionDenied, "You do not have permission to perform this action.")
}
