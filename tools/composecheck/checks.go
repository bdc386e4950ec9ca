package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
)

// checkProject returns what is wrong with a loaded project, as Blip's
// deployment relies on it: the api, postgres and redis services with health
// checks and start order, the api's production settings, ports on loopback
// only, bind mounts that exist, and with the monitoring file Prometheus on
// 9090 and Grafana on 3001 with their secrets.
func checkProject(p *types.Project) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, name := range []string{"api", "postgres", "redis"} {
		if _, ok := p.Services[name]; !ok {
			bad("service %s is missing", name)
		}
	}
	for _, name := range []string{"postgres", "redis"} {
		s, ok := p.Services[name]
		if ok && (s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0) {
			bad("service %s has no healthcheck: the api would start before it is ready", name)
		}
	}
	if api, ok := p.Services["api"]; ok {
		for _, dep := range []string{"postgres", "redis"} {
			if d, ok := api.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				bad("api must depend on %s with condition %s", dep, types.ServiceConditionHealthy)
			}
		}
		if v := env(api, "APP_ENV"); v != "production" {
			bad("api must run with APP_ENV=production, has %q", v)
		}
		for _, k := range []string{"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"} {
			if env(api, k) == "" {
				bad("api environment lacks %s", k)
			}
		}
		if !publishes(api, 8000, "") {
			bad("api must publish container port 8000 on 127.0.0.1")
		}
	}

	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.Published != "" && port.HostIP != "127.0.0.1" && port.HostIP != "::1" {
				bad("%s publishes %s:%d on every interface; bind it to 127.0.0.1", name, port.Published, port.Target)
			}
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				bad("%s mounts %s, which does not exist", name, v.Source)
			}
		}
	}

	if _, ok := p.Services["prometheus"]; ok {
		problems = append(problems, checkMonitoring(p)...)
	}
	slices.Sort(problems)
	return problems
}

// checkMonitoring checks what docker-compose.monitoring.yml adds.
func checkMonitoring(p *types.Project) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	prom := p.Services["prometheus"]
	if !publishes(prom, 9090, "9090") {
		bad("prometheus must publish 9090 on 127.0.0.1")
	}
	grafana, ok := p.Services["grafana"]
	switch {
	case !ok:
		bad("service grafana is missing")
	case !publishes(grafana, 3000, "3001"):
		bad("grafana must publish its port 3000 as 127.0.0.1:3001")
	case env(grafana, "GF_SECURITY_ADMIN_PASSWORD") == "":
		bad("grafana has no admin password (GF_SECURITY_ADMIN_PASSWORD)")
	}
	if _, ok := p.Secrets["metrics_token"]; !ok {
		bad("secret metrics_token is not declared")
	}
	if !slices.ContainsFunc(prom.Secrets, func(s types.ServiceSecretConfig) bool { return s.Source == "metrics_token" }) {
		bad("prometheus must mount the metrics_token secret (prometheus.yml reads /run/secrets/metrics_token)")
	}
	if env(p.Services["api"], "METRICS_TOKEN") == "" {
		bad("with monitoring, the api must require METRICS_TOKEN")
	}
	return problems
}

// env returns a service's environment value, "" when unset.
func env(s types.ServiceConfig, key string) string {
	if v := s.Environment[key]; v != nil {
		return *v
	}
	return ""
}

// publishes reports whether s publishes container port target on
// loopback, on host port published when that is not "".
func publishes(s types.ServiceConfig, target uint32, published string) bool {
	return slices.ContainsFunc(s.Ports, func(p types.ServicePortConfig) bool {
		return p.Target == target && (published == "" || p.Published == published) &&
			(p.HostIP == "127.0.0.1" || p.HostIP == "::1")
	})
}
