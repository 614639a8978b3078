package main

import (
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// A scenario file:
//
//	calls:
//	- from: smm-demo/notifications-v1   # namespace/workload making the call
//	  labels: {app: notifications}      # the workload's pod labels (default app: <workload>)
//	  to: httpbin.org                   # host name, or an IP address
//	  port: 80
//	  protocol: HTTP                    # HTTP, TLS or TCP
//	  path: /get                        # HTTP only (default /)
//	  perMinute: 60
//	  status: 200                       # what the host answers (HTTP only; default 200)
//	  toWorkload: shop/backend          # the callee is a pod in the mesh, called by its IP
//
// and the egress gateways calls may be routed through (the pods behind a gateway Service):
//
//	gateways:
//	- service: istio-system/istio-egressgateway        # the gateway's Service (namespace/name)
//	  labels: {istio: egressgateway, app: istio-egressgateway}  # its pods' labels
//	  targetPorts: {"80": 8080, "443": 8443}            # the Service's targetPorts, if any
//
// A call that istiod routes to such a Service is played a second time from the gateway (a
// router proxy with those labels, connected to istiod like the sidecars), as the gateway's own
// call: what the VirtualService bound to the gateway says.
type scenario struct {
	Calls    []call    `json:"calls"`
	Gateways []gateway `json:"gateways,omitempty"`
}

type gateway struct {
	Service string            `json:"service"`
	Labels  map[string]string `json:"labels"`
	// TargetPorts maps the Service's ports to the pods' (as the Service's targetPort does):
	// the gateway listens on these.
	TargetPorts map[string]uint32 `json:"targetPorts,omitempty"`
}

// host is the gateway Service's name in the cluster's DNS, as cluster metadata names it.
func (g gateway) host() string {
	ns, name, _ := strings.Cut(g.Service, "/")
	return name + "." + ns + ".svc.cluster.local"
}

type call struct {
	From       string            `json:"from"`
	Labels     map[string]string `json:"labels,omitempty"`
	To         string            `json:"to"`
	Port       uint32            `json:"port"`
	Protocol   string            `json:"protocol"`
	Path       string            `json:"path,omitempty"`
	PerMinute  float64           `json:"perMinute"`
	Status     int               `json:"status,omitempty"`
	ToWorkload string            `json:"toWorkload,omitempty"`
	SentBytes  int               `json:"sentBytes,omitempty"`
	RecvBytes  int               `json:"receivedBytes,omitempty"`

	file string
	// gatewayName is set on a call an egress gateway makes (its second leg), and gatewayPort
	// to the port the gateway's pods listen on, when the Service maps it.
	gatewayName string
	gatewayPort uint32
}

func loadScenarios(dir string) ([]call, []gateway, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var calls []call
	var gateways []gateway
	var problems []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".json")) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue // removed between listing and reading
		}
		var s scenario
		if err := yaml.UnmarshalStrict(raw, &s); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		for i, g := range s.Gateways {
			if strings.Count(g.Service, "/") != 1 || len(g.Labels) == 0 {
				problems = append(problems, fmt.Sprintf("%s: gateways[%d]: service is namespace/name, and labels are required", name, i))
				continue
			}
			gateways = append(gateways, g)
		}
		for i, c := range s.Calls {
			if err := c.check(); err != nil {
				problems = append(problems, fmt.Sprintf("%s: calls[%d]: %v", name, i, err))
				continue
			}
			c.file = name
			calls = append(calls, c)
		}
	}
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].key() < calls[j].key() })
	if len(problems) > 0 {
		return calls, gateways, fmt.Errorf("scenario problems: %s", strings.Join(problems, "; "))
	}
	return calls, gateways, nil
}

func (c *call) check() error {
	if strings.Count(c.From, "/") != 1 || strings.HasPrefix(c.From, "/") || strings.HasSuffix(c.From, "/") {
		return fmt.Errorf("from must be namespace/workload, not %q", c.From)
	}
	if c.To == "" {
		return fmt.Errorf("to is required")
	}
	if c.Port == 0 || c.Port > 65535 {
		return fmt.Errorf("port must be 1-65535")
	}
	c.Protocol = strings.ToUpper(c.Protocol)
	switch c.Protocol {
	case "HTTP", "TLS", "TCP":
	default:
		return fmt.Errorf("protocol must be HTTP, TLS or TCP, not %q", c.Protocol)
	}
	if c.PerMinute <= 0 {
		return fmt.Errorf("perMinute must be positive")
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.Status == 0 {
		c.Status = 200
	}
	if c.SentBytes == 0 {
		c.SentBytes = 840
	}
	if c.RecvBytes == 0 {
		c.RecvBytes = 5120
	}
	return nil
}

// listenPort is the port the proxy handling the call listens on.
func (c call) listenPort() uint32 {
	if c.gatewayPort != 0 {
		return c.gatewayPort
	}
	return c.Port
}

func (c call) namespace() string { return strings.SplitN(c.From, "/", 2)[0] }
func (c call) workload() string  { return strings.SplitN(c.From, "/", 2)[1] }

func (c call) labels() map[string]string {
	if len(c.Labels) > 0 {
		return c.Labels
	}
	return map[string]string{"app": c.workload()}
}

func (c call) labelString() string {
	l := c.labels()
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ",")
}

func (c call) key() string {
	return fmt.Sprintf("%s -> %s:%d/%s%s (%s)", c.From, c.To, c.Port, c.Protocol, c.Path, c.file)
}

// ip is where the call's connection goes: the address itself, or a stable address outside
// every range the mesh uses (198.18.0.0/15, set aside for tests) for a host name: a real client
// would resolve the name through DNS, and an external host's address is not one istiod knows.
func (c call) ip() string {
	if net.ParseIP(c.To) != nil {
		return c.To
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(c.To))
	v := h.Sum32()
	return fmt.Sprintf("198.%d.%d.%d", 18+(v>>16)&1, (v>>8)&0xff, 1+v%254)
}

// sni is the server name a TLS client sends: the host name (none for an address).
func (c call) sni() string {
	if c.Protocol != "TLS" || net.ParseIP(c.To) != nil {
		return ""
	}
	return c.To
}

// hostHeader is what an HTTP client sends as Host: the port only when it is not 80.
func (c call) hostHeader() string {
	if c.Port == 80 {
		return c.To
	}
	return fmt.Sprintf("%s:%d", c.To, c.Port)
}
