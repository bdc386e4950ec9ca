package main

import (
	"io"
	"log/slog"
	"strings"

	"github.com/blipsocial/blip/internal/config"
)

// dotEnvPath is read from the working directory, as the template did.
const dotEnvPath = ".env"

// loadEnv reads the configuration: the real environment laid over .env.
func loadEnv(lookupEnv func(string) (string, bool)) (config.Config, error) {
	path := dotEnvPath
	if p, ok := lookupEnv("BLIP_ENV_FILE"); ok && p != "" {
		path = p
	}
	dotenv, err := config.ReadDotEnv(path)
	if err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Load(config.Layered(lookupEnv, dotenv))
	if err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

// newLogger returns the process logger: JSON when JSON_LOGS, text otherwise.
func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if cfg.JSONLogs {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With(slog.String("service", "blip"))
}
