package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/blipsocial/blip/internal/blip"
)

// The token endpoints speak SimpleJWT's JSON so existing clients work.

// Request fields holding passwords and tokens are blip.Secrets: a request
// value that reaches a log line or an error message prints "[redacted]".

type loginRequest struct {
	Email    string      `json:"email"`
	Password blip.Secret `json:"password"`
}

// Valid implements validator.
func (r loginRequest) Valid(context.Context) map[string][]string {
	return required(map[string]string{"email": r.Email, "password": string(r.Password)})
}

type refreshRequest struct {
	Refresh blip.Secret `json:"refresh"`
}

// Valid implements validator; the token may come from the cookie instead.
func (refreshRequest) Valid(context.Context) map[string][]string { return nil }

type verifyRequest struct {
	Token blip.Secret `json:"token"`
}

// Valid implements validator.
func (r verifyRequest) Valid(context.Context) map[string][]string {
	return required(map[string]string{"token": string(r.Token)})
}

type tokenPairJSON struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh,omitempty"`
}

// required reports each empty field as DRF does.
func required(fields map[string]string) map[string][]string {
	problems := map[string][]string{}
	for name, v := range fields {
		if v == "" {
			problems[name] = []string{"This field is required."}
		}
	}
	return problems
}

func loginClient(r *http.Request) blip.ClientInfo {
	return blip.ClientInfo{UserAgent: r.UserAgent(), IP: clientIP(r.Context())}
}

// writeTokenPair answers a login or refresh, moving the refresh token to
// the cookie when AUTH_COOKIE asks for it.
func writeTokenPair(w http.ResponseWriter, r *http.Request, logger *slog.Logger, cookies tokenCookies, pair blip.TokenPair) {
	cookies.set(w, r, pair.Refresh)
	body := tokenPairJSON{Access: string(pair.Access)}
	if cookies.inBody() {
		body.Refresh = string(pair.Refresh)
	}
	w.Header().Set("Cache-Control", "no-store")
	respond(w, r, logger, http.StatusOK, body)
}

// handleTokenObtain handles POST /api/token/.
func handleTokenObtain(logger *slog.Logger, maxBody int64, accounts *blip.Accounts, cookies tokenCookies, th *throttle) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[loginRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		// The failure budgets of the login policy, before any hashing.
		attempt, ok := th.beginLogin(w, r, in.Email)
		if !ok {
			return
		}
		pair, err := accounts.Login(r.Context(), in.Email, string(in.Password), loginClient(r))
		if err != nil {
			if blip.IsCode(err, blip.CodeNoActiveAccount) {
				attempt.failed(r)
			}
			writeProblem(w, r, logger, err)
			return
		}
		attempt.succeeded(r)
		writeTokenPair(w, r, logger, cookies, pair)
	})
}

// handleTokenRefresh handles POST /api/token/refresh/.
func handleTokenRefresh(logger *slog.Logger, maxBody int64, accounts *blip.Accounts, cookies tokenCookies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decodeOptional[refreshRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		token, err := cookies.refreshToken(r, in.Refresh)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		pair, err := accounts.Refresh(r.Context(), string(token), loginClient(r))
		if err != nil {
			if blip.IsCode(err, blip.CodeTokenNotValid) {
				cookies.clear(w, r)
			}
			writeProblem(w, r, logger, err)
			return
		}
		writeTokenPair(w, r, logger, cookies, pair)
	})
}

// handleTokenVerify handles POST /api/token/verify/.
func handleTokenVerify(logger *slog.Logger, maxBody int64, accounts *blip.Accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[verifyRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		if err := accounts.Verify(r.Context(), string(in.Token)); err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		respond(w, r, logger, http.StatusOK, struct{}{})
	})
}

// handleTokenBlacklist handles POST /api/token/blacklist/ (logout).
func handleTokenBlacklist(logger *slog.Logger, maxBody int64, accounts *blip.Accounts, cookies tokenCookies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decodeOptional[refreshRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		token, err := cookies.refreshToken(r, in.Refresh)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		err = accounts.Logout(r.Context(), string(token))
		cookies.clear(w, r)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		respond(w, r, logger, http.StatusOK, struct{}{})
	})
}
