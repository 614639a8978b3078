package main

import (
	"fmt"
	"log"
	"strings"
	"sync"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	pstruct "google.golang.org/protobuf/types/known/structpb"

	"istio.io/istio/pilot/pkg/model"
	v3 "istio.io/istio/pilot/pkg/xds/v3"
	"istio.io/istio/pkg/adsc"
)

// proxy is one calling workload's sidecar, as istiod sees it: an ADS connection with the
// workload's namespace and labels, and the latest configuration istiod pushed to it.
type proxy struct {
	name string
	mu   sync.RWMutex
	snap *snapshot
	// parts of the next snapshot, by type, as they arrive
	listeners []*listener.Listener
	routes    map[string]*route.RouteConfiguration
	clusters  map[string]*cluster.Cluster
	client    *adsc.ADSC
	closed    bool
	// asked: the route names this proxy last asked for itself, since the last listener push.
	// adsc asks for routes by port (a gateway's are named http.PORT) and acknowledges with the
	// names it received, so a listener's route can go missing: then the proxy asks by the
	// names its listeners give.
	asked string
	// fresh: the route names received since the last listener push.
	fresh map[string]bool
}

// A gateway (router) proxy is connected as a router node, as an egress gateway's Envoy is.
func newProxy(xds, namespace, workload string, labels map[string]string, n int, router bool) *proxy {
	p := &proxy{name: namespace + "/" + workload, routes: map[string]*route.RouteConfiguration{}, clusters: map[string]*cluster.Cluster{}}
	lbls := map[string]any{}
	for k, v := range labels {
		lbls[k] = v
	}
	meta, err := pstruct.NewStruct(map[string]any{
		"NAMESPACE": namespace, "LABELS": lbls, "WORKLOAD_NAME": workload, "CLUSTER_ID": "Kubernetes",
		"INTERCEPTION_MODE": "REDIRECT", "NAME": workload + "-trafficsource",
	})
	if err != nil {
		log.Printf("trafficsource: %s: node metadata: %v", p.name, err)
		return p
	}
	cfg := &adsc.ADSConfig{
		Config: adsc.Config{
			ClientName: "trafficsource " + p.name, Namespace: namespace, Workload: workload + "-trafficsource",
			Meta: meta, IP: fmt.Sprintf("10.244.%d.%d", 1+n/250, 1+n%250),
		},
		InitialDiscoveryRequests: []*discovery.DiscoveryRequest{{TypeUrl: v3.ClusterType}, {TypeUrl: v3.ListenerType}},
		ResponseHandler:          p,
	}
	if router {
		cfg.Config.NodeType = model.Router
	}
	go p.connect(xds, cfg)
	return p
}

// connect keeps trying until istiod answers; adsc reconnects by itself after that.
func (p *proxy) connect(xds string, cfg *adsc.ADSConfig) {
	for attempt := 0; ; attempt++ {
		p.mu.RLock()
		closed := p.closed
		p.mu.RUnlock()
		if closed {
			return
		}
		c, err := adsc.New(xds, cfg)
		if err == nil {
			if err = c.Run(); err == nil {
				p.mu.Lock()
				p.client = c
				p.mu.Unlock()
				log.Printf("trafficsource: %s connected to istiod", p.name)
				return
			}
			c.Close()
		}
		if attempt%20 == 0 {
			log.Printf("trafficsource: %s: istiod not reachable yet: %v", p.name, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// HandleResponse receives every push (adsc acknowledges it and asks for the routes).
func (p *proxy) HandleResponse(c *adsc.ADSC, msg *discovery.DiscoveryResponse) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch msg.TypeUrl {
	case v3.ListenerType:
		p.listeners = p.listeners[:0]
		for _, r := range msg.Resources {
			l := &listener.Listener{}
			if proto.Unmarshal(r.Value, l) == nil {
				p.listeners = append(p.listeners, l)
			}
		}
		p.asked, p.fresh = "", map[string]bool{}
	case v3.ClusterType:
		p.clusters = map[string]*cluster.Cluster{}
		for _, r := range msg.Resources {
			c := &cluster.Cluster{}
			if proto.Unmarshal(r.Value, c) == nil {
				p.clusters[c.Name] = c
			}
		}
	case v3.RouteType:
		// A route response may carry only the route configurations that changed (RDS is not a
		// state-of-the-world type): the others stay as they were.
		for _, r := range msg.Resources {
			rc := &route.RouteConfiguration{}
			if proto.Unmarshal(r.Value, rc) == nil {
				p.routes[rc.Name] = rc
				if p.fresh != nil {
					p.fresh[rc.Name] = true
				}
			}
		}
		if names := routeNames(p.listeners); !p.freshRoutes(names) && strings.Join(names, ",") != p.asked {
			// adsc's own requests carry a nonce istiod would take as stale: the watch is
			// dropped first, so istiod takes the next request as a new one.
			p.asked = strings.Join(names, ",")
			for _, ask := range [][]string{nil, names} {
				if err := c.Send(&discovery.DiscoveryRequest{TypeUrl: v3.RouteType, ResourceNames: ask}); err != nil {
					log.Printf("trafficsource: %s: asking for routes %v: %v", p.name, names, err)
				}
			}
		}
	default:
		return
	}
	if len(p.listeners) == 0 || len(p.clusters) == 0 || !p.routesComplete() {
		return // a snapshot only from a whole configuration, as Envoy warms before serving
	}
	p.snap = newSnapshot(p.listeners, p.routes, p.clusters)
}

// freshRoutes: every route configuration in names has arrived since the last listener push.
func (p *proxy) freshRoutes(names []string) bool {
	for _, name := range names {
		if !p.fresh[name] {
			return false
		}
	}
	return true
}

// routesComplete: every route configuration a listener refers to has arrived.
func (p *proxy) routesComplete() bool {
	for _, name := range routeNames(p.listeners) {
		if _, ok := p.routes[name]; !ok {
			return false
		}
	}
	return true
}

func (p *proxy) snapshot() *snapshot {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.snap
}

func (p *proxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.client != nil {
		p.client.Close()
	}
}
