#!/usr/bin/env python3
"""Structural check of the compose files where `docker compose config` is not
available (CI machines without the compose plugin). Parses each file as YAML
and checks what Blip's deployment relies on: services, healthchecks,
depends_on conditions, required secrets, loopback-only ports, and that every
bind-mounted path exists. `docker compose config -q` remains the real check
and runs instead wherever the plugin exists."""
import os
import re
import sys

import yaml

errors = []


def err(msg):
    errors.append(msg)


def check_main(doc, path):
    services = doc.get("services") or {}
    for name in ("api", "postgres", "redis"):
        if name not in services:
            err(f"{path}: service {name!r} missing")
    for name in ("postgres", "redis"):
        if not (services.get(name) or {}).get("healthcheck", {}).get("test"):
            err(f"{path}: service {name!r} has no healthcheck")
    api = services.get("api") or {}
    deps = api.get("depends_on") or {}
    for name in ("postgres", "redis"):
        cond = (deps.get(name) or {}).get("condition") if isinstance(deps, dict) else None
        if cond != "service_healthy":
            err(f"{path}: api must depend on {name} with condition service_healthy")
    env = api.get("environment") or {}
    for key in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "AUTO_MIGRATE"):
        if key not in env:
            err(f"{path}: api environment lacks {key}")
    if not re.search(r"\$\{SECRET_KEY:\?", str(env.get("SECRET_KEY", ""))):
        err(f"{path}: SECRET_KEY must be required with ${{SECRET_KEY:?...}}, never defaulted")
    if env.get("APP_ENV") != "production":
        err(f"{path}: api must run with APP_ENV=production")


def check_monitoring(doc, path):
    services = doc.get("services") or {}
    for name, port in (("prometheus", "9090"), ("grafana", "3001")):
        ports = [str(p) for p in (services.get(name) or {}).get("ports", [])]
        if not any(p.split(":")[-2:-1] == [port] or p.startswith(f"127.0.0.1:{port}:") for p in ports):
            err(f"{path}: {name} must publish port {port}")
    if "metrics_token" not in (doc.get("secrets") or {}):
        err(f"{path}: secret metrics_token missing")
    if "metrics_token" not in ((services.get("prometheus") or {}).get("secrets") or []):
        err(f"{path}: prometheus must mount the metrics_token secret")


def check_common(doc, path):
    base = os.path.dirname(os.path.abspath(path))
    for name, svc in (doc.get("services") or {}).items():
        for port in svc.get("ports", []) or []:
            if not str(port).startswith("127.0.0.1:"):
                err(f"{path}: {name} publishes {port} on every interface; bind to 127.0.0.1")
        for vol in svc.get("volumes", []) or []:
            src = str(vol).split(":")[0]
            if src.startswith("./") and not os.path.exists(os.path.join(base, src)):
                err(f"{path}: {name} mounts missing path {src}")


for path in sys.argv[1:]:
    with open(path) as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or "services" not in doc:
        err(f"{path}: not a compose file (no services)")
        continue
    check_common(doc, path)
    if "monitoring" in os.path.basename(path):
        check_monitoring(doc, path)
    else:
        check_main(doc, path)

if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"compose files OK (structural check): {', '.join(sys.argv[1:])}")
