package redis

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own messages (failed dials, pool trouble) to
// logger, at Warn with logger=go-redis, instead of the plain-text lines
// go-redis writes to stderr by default, which break a JSON log stream and
// carry no request_id.
//
// go-redis has one logger per process, not per client, so this changes
// process-wide state: the program calls it once, where it opens its Redis
// client and knows its logger, never from an init (which would run before
// the configuration says JSON or text, and in every test binary). Tests
// that run several servers in one process see each other's go-redis lines.
func SetLogger(logger *slog.Logger) {
	goredis.SetLogger(slogPrintf{logger: logger.With(slog.String("logger", "go-redis"))})
}

// slogPrintf adapts a *slog.Logger to go-redis's Printf-style logger.
type slogPrintf struct{ logger *slog.Logger }

func (s slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	// go-redis prefixes most messages with "redis: "; the logger attribute
	// already says where they come from.
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	s.logger.WarnContext(ctx, msg)
}
