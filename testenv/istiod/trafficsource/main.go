// Command trafficsource plays a scenario of outgoing calls (which workload calls which host,
// port and protocol, how often) and exports Istio's standard sidecar metrics for them, as a
// client sidecar would (reporter="source"), for Prometheus to scrape.
//
// It decides nothing itself: for every calling workload it connects to the real istiod over
// ADS as a sidecar of that workload's namespace (istio.io/istio/pkg/adsc, what Istio's own load
// tests use) and routes each call through the listeners, routes and clusters istiod pushed, the
// way Envoy would (route.go). So a REGISTRY_ONLY switch, a Sidecar or a new ServiceEntry changes
// the metrics exactly as Istio's configuration says.
//
// Scenarios are the *.yaml / *.json files of a directory, re-read every tick, so tests and the
// demo add and remove their own calls by writing files (scenario.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	xds := flag.String("xds", "127.0.0.1:15010", "istiod's plaintext xDS address")
	listen := flag.String("listen", "127.0.0.1:15090", "address serving /metrics")
	dir := flag.String("scenarios", "", "directory of scenario files (*.yaml, *.json)")
	tick := flag.Duration("tick", time.Second, "how often calls are played")
	flag.Parse()
	if *dir == "" {
		log.Fatal("trafficsource: --scenarios DIR is required")
	}

	src := &source{xds: *xds, proxies: map[string]*proxy{}, metrics: newRegistry()}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", src.metrics.serve)
	mux.HandleFunc("/debug/verdicts", src.serveVerdicts)
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	server := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Fatalf("trafficsource: %v", err)
		}
	}()
	log.Printf("trafficsource: xDS from %s, scenarios in %s, metrics on http://%s/metrics", *xds, *dir, *listen)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ticker := time.NewTicker(*tick)
	defer ticker.Stop()
	for {
		src.play(*dir, tick.Seconds())
		select {
		case <-ctx.Done():
			_ = server.Close()
			src.close()
			return
		case <-ticker.C:
		}
	}
}

// source holds one xDS connection per calling workload and what was played so far.
type source struct {
	xds     string
	mu      sync.Mutex
	proxies map[string]*proxy
	metrics *registry
	// carry keeps the fractional calls of each scenario line between ticks.
	carry    map[string]float64
	verdicts map[string]verdict
}

func (s *source) play(dir string, seconds float64) {
	calls, gateways, err := loadScenarios(dir)
	if err != nil {
		log.Printf("trafficsource: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.carry == nil {
		s.carry = map[string]float64{}
	}
	verdicts := map[string]verdict{}
	for _, c := range calls {
		p := s.proxyFor(c)
		snap := p.snapshot()
		if snap == nil {
			continue // not connected yet: the call waits, as a pod waits for its sidecar
		}
		v := snap.route(c)
		// Routed to an egress gateway: the call reaches the gateway's pods (which answer the
		// metadata exchange), and the gateway makes its own call, as istiod configured it.
		var leg *call
		var legVerdict verdict
		for _, g := range gateways {
			if v.service != g.host() {
				continue
			}
			ns, name, _ := strings.Cut(g.Service, "/")
			v.toWorkload = g.Service
			gc := c
			gc.From, gc.Labels, gc.ToWorkload, gc.gatewayName = ns+"/"+name, g.Labels, "", name
			gc.gatewayPort = g.TargetPorts[strconv.Itoa(int(c.Port))]
			if gsnap := s.proxyFor(gc).snapshot(); gsnap != nil {
				legVerdict = gsnap.route(gc)
				leg = &gc
				verdicts[gc.key()] = legVerdict
			}
			break
		}
		verdicts[c.key()] = v
		s.carry[c.key()] += c.PerMinute / 60 * seconds
		n := int(s.carry[c.key()])
		if n == 0 {
			continue
		}
		s.carry[c.key()] -= float64(n)
		s.metrics.record(c, v, n)
		if leg != nil {
			s.metrics.record(*leg, legVerdict, n)
		}
	}
	s.verdicts = verdicts
}

func (s *source) proxyFor(c call) *proxy {
	k := c.From + "|" + c.labelString()
	if c.gatewayName != "" {
		k += "|router"
	}
	if p, ok := s.proxies[k]; ok {
		return p
	}
	p := newProxy(s.xds, c.namespace(), c.workload(), c.labels(), len(s.proxies), c.gatewayName != "")
	s.proxies[k] = p
	return p
}

func (s *source) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.proxies {
		p.close()
	}
}

// serveVerdicts answers what each scenario line is routed to right now (for tests and people).
func (s *source) serveVerdicts(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	lines := make([]string, 0, len(s.verdicts))
	for k, v := range s.verdicts {
		lines = append(lines, fmt.Sprintf("%s => %s", k, v))
	}
	s.mu.Unlock()
	sort.Strings(lines)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

func init() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	log.SetOutput(os.Stderr)
}
