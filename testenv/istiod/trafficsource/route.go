package main

import (
	"fmt"
	"net"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxy "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"

	stats "istio.io/api/envoy/extensions/stats"
)

// snapshot is one sidecar's whole configuration, as pushed by istiod.
type snapshot struct {
	listeners []*listener.Listener
	routes    map[string]*route.RouteConfiguration
	clusters  map[string]*cluster.Cluster
}

func newSnapshot(ls []*listener.Listener, rs map[string]*route.RouteConfiguration, cs map[string]*cluster.Cluster) *snapshot {
	s := &snapshot{listeners: append([]*listener.Listener(nil), ls...), routes: map[string]*route.RouteConfiguration{}, clusters: map[string]*cluster.Cluster{}}
	for k, v := range rs {
		s.routes[k] = v
	}
	for k, v := range cs {
		s.clusters[k] = v
	}
	return s
}

// verdict is where Envoy sends a call, and what the client sidecar's stats filter reports.
type verdict struct {
	http        bool   // handled by an HTTP connection manager (istio_requests_total)
	cluster     string // the upstream cluster, or "" for a direct response
	status      int    // a direct response's status (block_all answers 502)
	blackhole   bool
	passthrough bool
	service     string // destination_service
	serviceName string // destination_service_name
	toWorkload  string // the egress gateway (namespace/name) the call reached, if any
	// dimensions added by the Telemetry API (tagOverrides), label -> CEL expression
	dimensions map[string]map[string]string
}

func (v verdict) String() string {
	kind := "registered " + v.serviceName
	switch {
	case v.blackhole:
		kind = "BlackHoleCluster"
	case v.passthrough:
		kind = "PassthroughCluster"
	}
	proto := "tcp"
	if v.http {
		proto = "http"
	}
	return fmt.Sprintf("%s (%s, destination_service=%s)", kind, proto, v.service)
}

// route follows a call the way Envoy's outbound path does: the virtual outbound listener
// (original destination) hands the connection to the listener bound to its address and port,
// or to 0.0.0.0:port, or keeps it; a filter chain is chosen by Envoy's match order; its last
// filter is a TCP proxy (a cluster) or an HTTP connection manager (a route configuration,
// then a virtual host by the Host header, then the first matching route).
func (s *snapshot) route(c call) verdict {
	l := s.listenerFor(c.ip(), c.listenPort())
	if l == nil {
		return verdict{blackhole: true, serviceName: "BlackHoleCluster", service: "unknown"}
	}
	fc := chooseFilterChain(l, c)
	if fc == nil {
		return verdict{blackhole: true, serviceName: "BlackHoleCluster", service: "unknown"}
	}
	v := verdict{dimensions: statsDimensions(fc)}
	last := fc.Filters[len(fc.Filters)-1]
	switch last.Name {
	case "envoy.filters.network.tcp_proxy":
		tp := &tcpproxy.TcpProxy{}
		if err := last.GetTypedConfig().UnmarshalTo(tp); err == nil {
			v.cluster = tp.GetCluster()
			if wc := tp.GetWeightedClusters(); wc != nil && len(wc.Clusters) > 0 {
				v.cluster = wc.Clusters[0].Name
			}
		}
	case "envoy.filters.network.http_connection_manager":
		v.http = true
		m := &hcm.HttpConnectionManager{}
		if err := last.GetTypedConfig().UnmarshalTo(m); err == nil {
			rc := m.GetRouteConfig()
			if name := m.GetRds().GetRouteConfigName(); name != "" {
				rc = s.routes[name]
			}
			v.cluster, v.status = s.httpRoute(rc, c)
			for k, d := range httpStatsDimensions(m) {
				if v.dimensions == nil {
					v.dimensions = map[string]map[string]string{}
				}
				v.dimensions[k] = d
			}
		}
	}
	s.label(&v, c)
	return v
}

func (s *snapshot) label(v *verdict, c call) {
	unknown := "unknown"
	if v.http {
		unknown = c.hostHeader() // the client sidecar falls back to the Host header
	}
	switch {
	case v.cluster == "BlackHoleCluster" || (v.cluster == "" && v.status != 0):
		v.blackhole, v.serviceName, v.service = true, "BlackHoleCluster", unknown
	case v.cluster == "PassthroughCluster":
		v.passthrough, v.serviceName, v.service = true, "PassthroughCluster", unknown
	default:
		v.service, v.serviceName = unknown, unknown
		if cl := s.clusters[v.cluster]; cl != nil {
			if svcs := cl.GetMetadata().GetFilterMetadata()["istio"].GetFields()["services"].GetListValue().GetValues(); len(svcs) > 0 {
				f := svcs[0].GetStructValue().GetFields()
				v.service, v.serviceName = f["host"].GetStringValue(), f["name"].GetStringValue()
			}
		}
	}
}

func (s *snapshot) listenerFor(ip string, port uint32) *listener.Listener {
	var wildcard, virtual *listener.Listener
	for _, l := range s.listeners {
		sa := l.GetAddress().GetSocketAddress()
		if sa == nil || l.GetTrafficDirection().String() == "INBOUND" || strings.HasPrefix(l.Name, "virtualInbound") {
			continue
		}
		switch {
		case l.GetUseOriginalDst().GetValue():
			virtual = l
		case sa.GetPortValue() == port && sa.GetAddress() == ip:
			return l
		case sa.GetPortValue() == port && sa.GetAddress() == "0.0.0.0":
			wildcard = l
		}
	}
	if wildcard != nil {
		return wildcard
	}
	return virtual
}

// chooseFilterChain applies Envoy's filter chain match order: destination port, destination IP
// (longest prefix), server name (exact, then longest wildcard), transport protocol,
// application protocols; at each step the most specific match wins, and an unset field matches
// anything; no match leaves the default filter chain.
func chooseFilterChain(l *listener.Listener, c call) *listener.FilterChain {
	inspectsTLS, inspectsHTTP := false, false
	for _, f := range l.ListenerFilters {
		inspectsTLS = inspectsTLS || f.Name == "envoy.filters.listener.tls_inspector"
		inspectsHTTP = inspectsHTTP || f.Name == "envoy.filters.listener.http_inspector"
	}
	transport, sni, alpn := "raw_buffer", "", ""
	if c.Protocol == "TLS" && inspectsTLS {
		transport, sni = "tls", c.sni()
	}
	if c.Protocol == "HTTP" && inspectsHTTP {
		alpn = "http/1.1"
	}
	ip := net.ParseIP(c.ip())
	chains := l.FilterChains
	chains = narrow(chains, func(m *listener.FilterChainMatch) (int, bool) {
		if m.GetDestinationPort() == nil {
			return 0, true
		}
		return 1, m.GetDestinationPort().GetValue() == c.listenPort()
	})
	chains = narrow(chains, func(m *listener.FilterChainMatch) (int, bool) {
		if len(m.GetPrefixRanges()) == 0 {
			return 0, true
		}
		best, ok := -1, false
		for _, r := range m.GetPrefixRanges() {
			_, n, err := net.ParseCIDR(fmt.Sprintf("%s/%d", r.GetAddressPrefix(), r.GetPrefixLen().GetValue()))
			if err == nil && n.Contains(ip) && int(r.GetPrefixLen().GetValue()) > best {
				best, ok = int(r.GetPrefixLen().GetValue()), true
			}
		}
		return best + 1, ok
	})
	chains = narrow(chains, func(m *listener.FilterChainMatch) (int, bool) {
		if len(m.GetServerNames()) == 0 {
			return 0, true
		}
		best, ok := 0, false
		for _, n := range m.GetServerNames() {
			switch {
			case n == sni && sni != "":
				best, ok = 1<<20, true
			case strings.HasPrefix(n, "*.") && strings.HasSuffix(sni, n[1:]) && len(n) > best:
				best, ok = len(n), true
			}
		}
		return best, ok
	})
	chains = narrow(chains, func(m *listener.FilterChainMatch) (int, bool) {
		if m.GetTransportProtocol() == "" {
			return 0, true
		}
		return 1, m.GetTransportProtocol() == transport
	})
	chains = narrow(chains, func(m *listener.FilterChainMatch) (int, bool) {
		if len(m.GetApplicationProtocols()) == 0 {
			return 0, true
		}
		for _, p := range m.GetApplicationProtocols() {
			if p == alpn && alpn != "" {
				return 1, true
			}
		}
		return 0, false
	})
	if len(chains) > 0 {
		return chains[0]
	}
	return l.DefaultFilterChain
}

// narrow keeps the chains that match with the highest specificity.
func narrow(chains []*listener.FilterChain, match func(*listener.FilterChainMatch) (int, bool)) []*listener.FilterChain {
	best := -1
	var out []*listener.FilterChain
	for _, fc := range chains {
		score, ok := match(fc.GetFilterChainMatch())
		if !ok {
			continue
		}
		if score > best {
			best, out = score, nil
		}
		if score == best {
			out = append(out, fc)
		}
	}
	return out
}

// httpRoute picks the virtual host by the Host header (exact, then the longest suffix
// wildcard, then the longest prefix wildcard, then "*") and the first route whose path
// matches; it answers the cluster, or the status of a direct response.
func (s *snapshot) httpRoute(rc *route.RouteConfiguration, c call) (string, int) {
	if rc == nil {
		return "", 404
	}
	host := strings.ToLower(c.hostHeader())
	var exact, suffix, prefix, any *route.VirtualHost
	suffixLen, prefixLen := 0, 0
	for _, vh := range rc.VirtualHosts {
		for _, d := range vh.Domains {
			d = strings.ToLower(d)
			switch {
			case d == "*":
				any = vh
			case d == host:
				exact = vh
			case strings.HasPrefix(d, "*") && strings.HasSuffix(host, d[1:]) && len(d) > suffixLen:
				suffix, suffixLen = vh, len(d)
			case strings.HasSuffix(d, "*") && strings.HasPrefix(host, d[:len(d)-1]) && len(d) > prefixLen:
				prefix, prefixLen = vh, len(d)
			}
		}
	}
	vh := exact
	for _, alt := range []*route.VirtualHost{suffix, prefix, any} {
		if vh == nil {
			vh = alt
		}
	}
	if vh == nil {
		return "", 404
	}
	for _, r := range vh.Routes {
		if !pathMatches(r.GetMatch(), c.Path) || len(r.GetMatch().GetHeaders()) > 0 {
			continue
		}
		if dr := r.GetDirectResponse(); dr != nil {
			return "", int(dr.GetStatus())
		}
		a := r.GetRoute()
		if a == nil {
			return "", 404
		}
		if wc := a.GetWeightedClusters(); wc != nil && len(wc.Clusters) > 0 {
			return wc.Clusters[0].Name, 0
		}
		return a.GetCluster(), 0
	}
	return "", 404
}

func pathMatches(m *route.RouteMatch, path string) bool {
	switch {
	case m.GetPrefix() != "":
		return strings.HasPrefix(path, m.GetPrefix())
	case m.GetPath() != "":
		return path == m.GetPath()
	default:
		return true // regex, separated path, connect matchers: taken as matching
	}
}

// routeNames are the route configurations the HTTP listeners ask for.
func routeNames(ls []*listener.Listener) []string {
	var names []string
	for _, l := range ls {
		for _, fc := range append(append([]*listener.FilterChain(nil), l.FilterChains...), l.DefaultFilterChain) {
			for _, f := range fc.GetFilters() {
				if f.Name != "envoy.filters.network.http_connection_manager" {
					continue
				}
				m := &hcm.HttpConnectionManager{}
				if f.GetTypedConfig().UnmarshalTo(m) == nil && m.GetRds().GetRouteConfigName() != "" {
					names = append(names, m.GetRds().GetRouteConfigName())
				}
			}
		}
	}
	return names
}

// statsDimensions reads the Telemetry API's extra labels from a chain's istio.stats filter.
func statsDimensions(fc *listener.FilterChain) map[string]map[string]string {
	for _, f := range fc.Filters {
		if f.Name == "istio.stats" {
			return pluginDimensions(f.GetTypedConfig().GetValue())
		}
	}
	return nil
}

func httpStatsDimensions(m *hcm.HttpConnectionManager) map[string]map[string]string {
	for _, f := range m.HttpFilters {
		if f.Name == "istio.stats" {
			return pluginDimensions(f.GetTypedConfig().GetValue())
		}
	}
	return nil
}

// pluginDimensions answers metric name ("" for every metric) -> label -> CEL expression.
func pluginDimensions(raw []byte) map[string]map[string]string {
	pc := &stats.PluginConfig{}
	if proto.Unmarshal(raw, pc) != nil {
		return nil
	}
	out := map[string]map[string]string{}
	for _, m := range pc.Metrics {
		if out[m.Name] == nil {
			out[m.Name] = map[string]string{}
		}
		for k, v := range m.Dimensions {
			out[m.Name][k] = v
		}
		for _, t := range m.TagsToRemove {
			out[m.Name][t] = ""
		}
	}
	return out
}
