package blip

import "time"

// Like is a user's like of a blip, as bulk loaders (`blip seed`) write it;
// the stores' Like and Unlike take its fields one by one.
type Like struct {
	UserID    string
	BlipID    string
	CreatedAt time.Time
}
