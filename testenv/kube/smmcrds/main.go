// Command smmcrds rewrites Istio's CRDs the way Service Mesh Manager's Istio 1.17 serves them:
// v1beta1 (and v1alpha3) only, no v1, with v1beta1 as the storage version. The CRDs SMM ships
// (github.com/banzaicloud/istio-operator/v2) cannot be fetched through the Go module proxy
// here, so the served-version shape, which is what mesh-egress depends on, is derived from
// istio.io/api's CRDs.
package main

import (
	"bytes"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: smmcrds IN OUT")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var out bytes.Buffer
	for _, doc := range bytes.Split(in, []byte("\n---\n")) {
		var crd map[string]any
		if err := yaml.Unmarshal(doc, &crd); err != nil || crd == nil {
			continue
		}
		spec, _ := crd["spec"].(map[string]any)
		versions, _ := spec["versions"].([]any)
		var kept []any
		hasV1beta1 := false
		for _, v := range versions {
			version, _ := v.(map[string]any)
			if version["name"] == "v1beta1" {
				hasV1beta1 = true
			}
		}
		for _, v := range versions {
			version, _ := v.(map[string]any)
			if version["name"] == "v1" && hasV1beta1 {
				continue
			}
			if hasV1beta1 {
				version["storage"] = version["name"] == "v1beta1"
			}
			kept = append(kept, version)
		}
		spec["versions"] = kept
		data, err := yaml.Marshal(crd)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out.WriteString("---\n")
		out.Write(data)
	}
	if err := os.WriteFile(os.Args[2], out.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
