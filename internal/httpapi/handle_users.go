package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/blipsocial/blip/internal/blip"
)

type registerRequest struct {
	Email    string      `json:"email"`
	Username string      `json:"username"`
	Password blip.Secret `json:"password"`
	Name     string      `json:"name"`
}

// Valid implements validator; the domain checks the values themselves.
func (r registerRequest) Valid(context.Context) map[string][]string {
	return required(map[string]string{"email": r.Email, "username": r.Username, "password": string(r.Password)})
}

// handleUserCreate handles POST /api/v1/users.
func handleUserCreate(logger *slog.Logger, maxBody int64, accounts *blip.Accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[registerRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		u, err := accounts.Register(r.Context(), blip.Registration{
			Email: in.Email, Username: in.Username, Password: in.Password, Name: in.Name,
		})
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		w.Header().Set("Location", "/api/v1/users/"+url.PathEscape(u.Username))
		respond(w, r, logger, http.StatusCreated, newMeJSON(u))
	})
}

// handleUserGet handles GET /api/v1/users/{username}.
func handleUserGet(logger *slog.Logger, feed *blip.Feed) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := feed.Profile(r.Context(), principal(r.Context()), r.PathValue("username"))
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		encodeTagged(w, r, logger, newUserJSON(v.User, v.FollowedByMe))
	})
}

// handleMeGet handles GET /api/v1/me.
func handleMeGet(logger *slog.Logger, accounts *blip.Accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := accounts.Me(r.Context(), principal(r.Context()))
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		encodeTagged(w, r, logger, newMeJSON(u))
	})
}

type profileRequest struct {
	Name *string `json:"name"`
	Bio  *string `json:"bio"`
}

// Valid implements validator.
func (profileRequest) Valid(context.Context) map[string][]string { return nil }

// handleMePatch handles PATCH /api/v1/me.
func handleMePatch(logger *slog.Logger, maxBody int64, accounts *blip.Accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[profileRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		u, err := accounts.UpdateProfile(r.Context(), principal(r.Context()), blip.ProfileUpdate{Name: in.Name, Bio: in.Bio})
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		respond(w, r, logger, http.StatusOK, newMeJSON(u))
	})
}

type passwordChangeRequest struct {
	CurrentPassword blip.Secret `json:"current_password"`
	NewPassword     blip.Secret `json:"new_password"`
}

// Valid implements validator.
func (r passwordChangeRequest) Valid(context.Context) map[string][]string {
	return required(map[string]string{"current_password": string(r.CurrentPassword), "new_password": string(r.NewPassword)})
}

// handleMePassword handles POST /api/v1/me/password.
func handleMePassword(logger *slog.Logger, maxBody int64, accounts *blip.Accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[passwordChangeRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		if err := accounts.ChangePassword(r.Context(), principal(r.Context()), string(in.CurrentPassword), string(in.NewPassword)); err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type deactivateRequest struct {
	Password blip.Secret `json:"password"`
}

// Valid implements validator.
func (r deactivateRequest) Valid(context.Context) map[string][]string {
	return required(map[string]string{"password": string(r.Password)})
}

// handleMeDelete handles DELETE /api/v1/me.
func handleMeDelete(logger *slog.Logger, maxBody int64, accounts *blip.Accounts, cookies tokenCookies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[deactivateRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		if err := accounts.Deactivate(r.Context(), principal(r.Context()), string(in.Password)); err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		cookies.clear(w, r)
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleSessionList handles GET /api/v1/me/sessions.
func handleSessionList(logger *slog.Logger, accounts *blip.Accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principal(r.Context())
		ss, err := accounts.Sessions(r.Context(), p)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		out := mapSlice(ss, func(s *blip.Session) sessionJSON { return newSessionJSON(s, p.SessionID) })
		respond(w, r, logger, http.StatusOK, pageJSON[sessionJSON]{Results: out})
	})
}

// handleSessionDelete handles DELETE /api/v1/me/sessions/{id}.
func handleSessionDelete(logger *slog.Logger, accounts *blip.Accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := accounts.RevokeSession(r.Context(), principal(r.Context()), r.PathValue("id")); err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type adminUserPageJSON struct {
	Count    int      `json:"count"`
	Next     *string  `json:"next"`
	Previous *string  `json:"previous"`
	Results  []meJSON `json:"results"`
}

// handleAdminUserList handles GET /api/v1/admin/users (limit/offset, as DRF's
// LimitOffsetPagination).
func handleAdminUserList(logger *slog.Logger, accounts *blip.Accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, offset, err := limitOffset(q)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		page, err := accounts.ListUsers(r.Context(), principal(r.Context()),
			blip.UserFilter{Query: q.Get("q"), Limit: limit, Offset: offset})
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		out := adminUserPageJSON{Count: page.Count, Results: mapSlice(page.Users, newMeJSON)}
		if offset+limit < page.Count {
			out.Next = offsetURL(r, limit, offset+limit)
		}
		if offset > 0 {
			out.Previous = offsetURL(r, limit, max(offset-limit, 0))
		}
		respond(w, r, logger, http.StatusOK, out)
	})
}

// limitOffset reads limit (default 20; above 100 it is lowered to 100, as
// DRF's max_limit does) and offset (0 to blip.MaxPageOffset; beyond is a
// 400, so offset+limit never overflows).
func limitOffset(q url.Values) (limit, offset int, err error) {
	limit = blip.DefaultPageLimit
	if s := q.Get("limit"); s != "" {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 1 {
			return 0, 0, blip.ValidationError(map[string][]string{"limit": {"A positive integer is required."}})
		}
		limit = min(n, blip.MaxPageLimit)
	}
	if s := q.Get("offset"); s != "" {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 0 {
			return 0, 0, blip.ValidationError(map[string][]string{"offset": {"A non-negative integer is required."}})
		}
		if n > blip.MaxPageOffset {
			return 0, 0, blip.ValidationError(map[string][]string{"offset": {
				fmt.Sprintf("Ensure this value is less than or equal to %d; narrow the list with q instead.", blip.MaxPageOffset)}})
		}
		offset = n
	}
	return limit, offset, nil
}

func offsetURL(r *http.Request, limit, offset int) *string {
	q := r.URL.Query()
	q.Set("limit", strconv.Itoa(limit))
	q.Set("offset", strconv.Itoa(offset))
	u := url.URL{Scheme: requestScheme(r), Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	s := u.String()
	return &s
}

type adminUpdateRequest struct {
	Role     *blip.Role `json:"role"`
	IsActive *bool      `json:"is_active"`
}

// Valid implements validator.
func (adminUpdateRequest) Valid(context.Context) map[string][]string { return nil }

// handleAdminUserPatch handles PATCH /api/v1/admin/users/{id}.
func handleAdminUserPatch(logger *slog.Logger, maxBody int64, accounts *blip.Accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[adminUpdateRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		u, err := accounts.AdminUpdateUser(r.Context(), principal(r.Context()), r.PathValue("id"),
			blip.AdminUpdate{Role: in.Role, IsActive: in.IsActive})
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		respond(w, r, logger, http.StatusOK, newMeJSON(u))
	})
}
