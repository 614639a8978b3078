package main

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// registry holds Istio's standard counters, by metric and label set, in the text format
// Prometheus scrapes from a sidecar (port 15090, /stats/prometheus).
type registry struct {
	mu     sync.Mutex
	series map[string]map[string]float64 // metric -> rendered labels -> value
}

func newRegistry() *registry { return &registry{series: map[string]map[string]float64{}} }

func (r *registry) add(metric string, labels map[string]string, v float64) {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%s", k, strconv.Quote(labels[k])))
	}
	rendered := strings.Join(parts, ",")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.series[metric] == nil {
		r.series[metric] = map[string]float64{}
	}
	r.series[metric][rendered] += v
}

func (r *registry) serve(w http.ResponseWriter, _ *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	names := make([]string, 0, len(r.series))
	for n := range r.series {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "# TYPE %s counter\n", n)
		lines := make([]string, 0, len(r.series[n]))
		for labels, v := range r.series[n] {
			lines = append(lines, fmt.Sprintf("%s{%s} %g", n, labels, v))
		}
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
}

// record adds n calls with the labels a client sidecar reports (reporter="source").
func (r *registry) record(c call, v verdict, n int) {
	labels := map[string]string{
		"reporter":                       "source",
		"source_workload":                c.workload(),
		"source_workload_namespace":      c.namespace(),
		"source_principal":               "unknown",
		"source_app":                     or(c.labels()["app"], c.workload()),
		"source_version":                 or(c.labels()["version"], "unknown"),
		"source_canonical_service":       or(c.labels()["app"], c.workload()),
		"source_canonical_revision":      or(c.labels()["version"], "latest"),
		"source_cluster":                 "Kubernetes",
		"destination_workload":           "unknown",
		"destination_workload_namespace": "unknown",
		"destination_principal":          "unknown",
		"destination_app":                "unknown",
		"destination_version":            "unknown",
		"destination_service":            v.service,
		"destination_service_name":       v.serviceName,
		"destination_service_namespace":  "unknown",
		"destination_canonical_service":  "unknown",
		"destination_canonical_revision": "latest",
		"destination_cluster":            "unknown",
		"response_flags":                 "-",
		"connection_security_policy":     "unknown",
	}
	target := c.ToWorkload
	if target == "" {
		target = v.toWorkload // an egress gateway's pods answer the metadata exchange too
	}
	if target != "" {
		// A pod in the mesh, called by its address: its sidecar answers the metadata exchange.
		ns, wl, _ := strings.Cut(target, "/")
		labels["destination_workload"], labels["destination_workload_namespace"] = wl, ns
		labels["destination_app"], labels["destination_canonical_service"] = wl, wl
		labels["destination_service_namespace"], labels["destination_cluster"] = ns, "Kubernetes"
	}
	n64 := float64(n)
	if v.http {
		labels["request_protocol"] = "http"
		code := c.Status
		if v.status != 0 {
			code = v.status
		}
		labels["response_code"] = strconv.Itoa(code)
		r.add("istio_requests_total", withDimensions(labels, v, "requests_total", c), n64)
		return
	}
	labels["request_protocol"] = "tcp"
	sent, received := float64(c.SentBytes), float64(c.RecvBytes)
	if v.blackhole {
		labels["response_flags"] = "UH"
		sent, received = 0, 0
	}
	r.add("istio_tcp_connections_opened_total", withDimensions(labels, v, "tcp_connections_opened_total", c), n64)
	r.add("istio_tcp_connections_closed_total", withDimensions(labels, v, "tcp_connections_closed_total", c), n64)
	r.add("istio_tcp_sent_bytes_total", withDimensions(labels, v, "tcp_sent_bytes_total", c), n64*sent)
	r.add("istio_tcp_received_bytes_total", withDimensions(labels, v, "tcp_received_bytes_total", c), n64*received)
}

// withDimensions applies the Telemetry API's tagOverrides for this metric: a label with an
// expression is added (or replaced), a removed one is dropped.
func withDimensions(base map[string]string, v verdict, metric string, c call) map[string]string {
	out := make(map[string]string, len(base)+2)
	for k, val := range base {
		out[k] = val
	}
	for _, name := range []string{"", metric} {
		for label, expr := range v.dimensions[name] {
			if expr == "" {
				delete(out, label)
				continue
			}
			out[label] = evalAttribute(expr, c, v)
		}
	}
	return out
}

var fallback = regexp.MustCompile(`:\s*['"]([^'"]*)['"]\s*$`)

// evalAttribute understands the expressions Istio's docs give for tagOverrides: one attribute,
// optionally as `has(x) ? x : 'unknown'`.
func evalAttribute(expr string, c call, v verdict) string {
	value := ""
	switch {
	case strings.Contains(expr, "requested_server_name"):
		value = c.sni()
	case strings.Contains(expr, "request.host"):
		if v.http {
			value = c.hostHeader()
		}
	case strings.Contains(expr, "destination.port"):
		value = strconv.Itoa(int(c.Port))
	case strings.Contains(expr, "destination.address"), strings.Contains(expr, "upstream.address"):
		value = fmt.Sprintf("%s:%d", c.ip(), c.Port)
	}
	if value != "" {
		return value
	}
	if m := fallback.FindStringSubmatch(expr); m != nil {
		return m[1]
	}
	return "unknown"
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
