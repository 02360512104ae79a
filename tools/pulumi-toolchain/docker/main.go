// pulumi-resource-docker for the ha-stack kit: the Terraform docker provider served through the
// Pulumi Terraform bridge under the "docker" package name, so the pulumi_docker Python SDK talks
// to it. Built by scripts/pulumi-toolchain; this file is the project's own glue.
//
// Only the Terraform-backed resources are served (docker:index/network:Network, .../container:
// Container, .../volume:Volume, .../remoteImage:RemoteImage, ...). The SDK's docker.Image is not
// a Terraform resource and is not served here.
//
// The module path sits under the upstream provider's import path on purpose: Go lets only
// packages under that path import its internal/provider package.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// version is what the provider reports to the engine: set at build time to the pulumi_docker
// Python SDK version pinned in constraints.txt.
var version = "0.0.0-dev"

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(provider.New(version)()),
		Name:    "docker",
		Version: version,
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_container": {
				Tok: "docker:index/container:Container",
				// Container names are fixed: the old one must be gone before its replacement starts.
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					"command":           {Name: "command"},          // one argv, not a list of commands
					"networks_advanced": {Name: "networksAdvanced"}, // the SDK's name, not pluralized
				},
			},
			// "docker_image" pulls (or builds) an image: the SDK calls it RemoteImage.
			"docker_image":  {Tok: "docker:index/remoteImage:RemoteImage", Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}}},
			"docker_config": {Tok: "docker:index/serviceConfig:ServiceConfig"},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image": {Tok: "docker:index/getRemoteImage:getRemoteImage"},
		},
	}
	// Every other resource and data source: docker_foo_bar -> docker:index/fooBar:FooBar.
	info.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard("docker")))
	info.SetAutonaming(255, "-")
	return info
}

func main() {
	// No embedded Pulumi schema: a deployment needs none (GetSchema answers empty).
	tfbridge.Main("docker", version, providerInfo(), nil)
}
