package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"

	"github.com/blipsocial/blip/internal/blip"
)

type postRequest struct {
	Text    string  `json:"text"`
	ReplyTo *string `json:"reply_to"`
}

// Valid implements validator; the domain checks the text itself.
func (postRequest) Valid(context.Context) map[string][]string { return nil }

// idempotencyKey reads the Idempotency-Key header: 1 to 255 visible ASCII
// characters, or absent.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", nil
	}
	ok := len(k) <= 255
	for i := 0; ok && i < len(k); i++ {
		ok = k[i] > ' ' && k[i] < 0x7f
	}
	if !ok {
		return "", blip.ValidationError(map[string][]string{"Idempotency-Key": {"Use 1 to 255 visible ASCII characters."}})
	}
	return k, nil
}

// requestHash fingerprints a post request by its meaning, so a retry that
// re-serialises the same JSON differently still matches.
func (p postRequest) hash() string {
	replyTo := ""
	if p.ReplyTo != nil {
		replyTo = *p.ReplyTo
	}
	sum := sha256.Sum256([]byte(p.Text + "\x00" + replyTo))
	return hex.EncodeToString(sum[:])
}

// handleBlipCreate handles POST /api/v1/blips.
func handleBlipCreate(logger *slog.Logger, maxBody int64, feed *blip.Feed) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := idempotencyKey(r)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		in, err := decode[postRequest](w, r, maxBody)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		replyTo := ""
		if in.ReplyTo != nil {
			replyTo = *in.ReplyTo
		}
		v, replayed, err := feed.Post(r.Context(), principal(r.Context()), blip.PostInput{
			Text: in.Text, ReplyTo: replyTo, IdempotencyKey: key, RequestHash: in.hash(),
		})
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		w.Header().Set("Location", "/api/v1/blips/"+v.ID)
		respond(w, r, logger, http.StatusCreated, newBlipJSON(*v))
	})
}

// handleBlipGet handles GET /api/v1/blips/{id}.
func handleBlipGet(logger *slog.Logger, feed *blip.Feed) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := feed.Blip(r.Context(), principal(r.Context()), r.PathValue("id"))
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		body := appendBlipJSON(make([]byte, 0, 640), *v)
		writeTagged(w, r, logger, append(body, '\n'))
	})
}

// handleBlipDelete handles DELETE /api/v1/blips/{id}.
func handleBlipDelete(logger *slog.Logger, feed *blip.Feed) http.Handler {
	return noContent(logger, func(r *http.Request) error {
		return feed.Delete(r.Context(), principal(r.Context()), r.PathValue("id"))
	})
}

// handleLikePut handles PUT /api/v1/blips/{id}/like.
func handleLikePut(logger *slog.Logger, feed *blip.Feed) http.Handler {
	return noContent(logger, func(r *http.Request) error {
		return feed.Like(r.Context(), principal(r.Context()), r.PathValue("id"))
	})
}

// handleLikeDelete handles DELETE /api/v1/blips/{id}/like.
func handleLikeDelete(logger *slog.Logger, feed *blip.Feed) http.Handler {
	return noContent(logger, func(r *http.Request) error {
		return feed.Unlike(r.Context(), principal(r.Context()), r.PathValue("id"))
	})
}

// handleFollowPut handles PUT /api/v1/users/{username}/follow.
func handleFollowPut(logger *slog.Logger, feed *blip.Feed) http.Handler {
	return noContent(logger, func(r *http.Request) error {
		return feed.Follow(r.Context(), principal(r.Context()), r.PathValue("username"))
	})
}

// handleFollowDelete handles DELETE /api/v1/users/{username}/follow.
func handleFollowDelete(logger *slog.Logger, feed *blip.Feed) http.Handler {
	return noContent(logger, func(r *http.Request) error {
		return feed.Unfollow(r.Context(), principal(r.Context()), r.PathValue("username"))
	})
}

// noContent adapts a domain call without a result to a 204 handler.
func noContent(logger *slog.Logger, call func(r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := call(r); err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// blipPage adapts a paged blip listing; scope binds cursors to the list.
func blipPage(logger *slog.Logger, cursors cursorCodec, scope func(r *http.Request) string,
	list func(r *http.Request, req blip.PageRequest) (blip.Page[blip.FeedItem], error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := scope(r)
		req, err := cursors.pageRequest(r, sc)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		page, err := list(r, req)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		writeBlipPage(w, r, logger, cursors, sc, req.Limit, page)
	})
}

// userPage adapts a paged follower/following listing.
func userPage(logger *slog.Logger, cursors cursorCodec, kind string,
	list func(ctx context.Context, viewer *blip.Principal, username string, req blip.PageRequest) (blip.Page[blip.Profile], error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		username := r.PathValue("username")
		sc := kind + ":" + username
		req, err := cursors.pageRequest(r, sc)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		page, err := list(r.Context(), principal(r.Context()), username, req)
		if err != nil {
			writeProblem(w, r, logger, err)
			return
		}
		respond(w, r, logger, http.StatusOK, pageJSON[userJSON]{
			Results: mapSlice(page.Items, func(v blip.Profile) userJSON { return newUserJSON(v.User, v.FollowedByMe) }),
			Next:    cursors.nextURL(r, sc, page.Next, req.Limit),
		})
	})
}

// handleReplyList handles GET /api/v1/blips/{id}/replies.
func handleReplyList(logger *slog.Logger, cursors cursorCodec, feed *blip.Feed) http.Handler {
	return blipPage(logger, cursors,
		func(r *http.Request) string { return "replies:" + r.PathValue("id") },
		func(r *http.Request, req blip.PageRequest) (blip.Page[blip.FeedItem], error) {
			return feed.Replies(r.Context(), principal(r.Context()), r.PathValue("id"), req)
		})
}

// handleUserBlipList handles GET /api/v1/users/{username}/blips.
func handleUserBlipList(logger *slog.Logger, cursors cursorCodec, feed *blip.Feed) http.Handler {
	return blipPage(logger, cursors,
		func(r *http.Request) string { return "user-blips:" + r.PathValue("username") },
		func(r *http.Request, req blip.PageRequest) (blip.Page[blip.FeedItem], error) {
			return feed.UserBlips(r.Context(), principal(r.Context()), r.PathValue("username"), req)
		})
}

// handleTimeline handles GET /api/v1/timeline.
func handleTimeline(logger *slog.Logger, cursors cursorCodec, feed *blip.Feed) http.Handler {
	return blipPage(logger, cursors,
		func(r *http.Request) string { return "timeline:" + userID(r.Context()) },
		func(r *http.Request, req blip.PageRequest) (blip.Page[blip.FeedItem], error) {
			return feed.Timeline(r.Context(), principal(r.Context()), req)
		})
}

// handleFollowerList handles GET /api/v1/users/{username}/followers.
func handleFollowerList(logger *slog.Logger, cursors cursorCodec, feed *blip.Feed) http.Handler {
	return userPage(logger, cursors, "followers", feed.Followers)
}

// handleFollowingList handles GET /api/v1/users/{username}/following.
func handleFollowingList(logger *slog.Logger, cursors cursorCodec, feed *blip.Feed) http.Handler {
	return userPage(logger, cursors, "following", feed.Following)
}
