"""Platform swarm: one ContainerSpec -> one docker.Service, the single translation every Swarm
component uses (the stack file, stacks.compose.swarm, renders the same fields).

Names as ``docker stack deploy ha-<stack>`` gives them: the service ``ha-<stack>_<service>``, the
network alias ``<service>`` (what the configs and the app address it by), and the stack
namespace label, so ``docker stack ps ha-<stack>`` lists a Pulumi deployment too.
"""

from collections.abc import Mapping
from typing import Final

import pulumi
import pulumi_docker as docker

from stacks.model.spec import ContainerSpec, SwarmDeploy
from stacks.model.swarm import config_name

__all__ = ["STACK_NAMESPACE_LABEL", "declare_service"]

STACK_NAMESPACE_LABEL: Final = "com.docker.stack.namespace"
# How long `pulumi up` waits for a service's tasks to run before it fails the update.
_CONVERGE_TIMEOUT: Final = "10m"


def _placement(deploy: SwarmDeploy) -> docker.ServiceTaskSpecPlacementArgs:
    return docker.ServiceTaskSpecPlacementArgs(
        constraints=list(deploy.constraints),
        max_replicas=deploy.max_replicas_per_node,
        prefs=[f"spread={deploy.spread}"] if deploy.spread else [],
    )


def _healthcheck(spec: ContainerSpec) -> docker.ServiceTaskSpecContainerSpecHealthcheckArgs | None:
    check = spec.healthcheck
    if check is None:
        return None
    return docker.ServiceTaskSpecContainerSpecHealthcheckArgs(
        tests=["CMD", *check.argv],
        interval=f"{check.interval_s}s",
        timeout=f"{check.timeout_s}s",
        retries=check.retries,
        start_period=f"{check.start_period_s}s",
    )


def declare_service(
    spec: ContainerSpec,
    *,
    prefix: str,
    network: docker.Network,
    secrets: Mapping[str, docker.Secret],
    configs: Mapping[str, docker.ServiceConfig],
    parent: pulumi.Resource,
) -> docker.Service:
    """The Swarm service of ``spec`` (a platform swarm spec: ValueError without ``deploy``)."""
    deploy = spec.deploy
    if deploy is None:
        raise ValueError(f"{spec.service}: no Swarm deployment (not a platform swarm topology)")
    namespace = {STACK_NAMESPACE_LABEL: prefix}
    labels = {**spec.labels, **namespace}
    mounted_configs = []
    for path, file in sorted(spec.files.items()):
        config = configs[config_name(prefix, file)]
        mounted_configs.append(
            docker.ServiceTaskSpecContainerSpecConfigArgs(
                config_id=config.id, config_name=config.name, file_name=path, file_mode=0o444
            )
        )
    container = docker.ServiceTaskSpecContainerSpecArgs(
        image=spec.image,
        args=list(spec.command),
        user=spec.user,
        env=dict(sorted(spec.env.items())),
        labels=[
            docker.ServiceTaskSpecContainerSpecLabelArgs(label=k, value=v)
            for k, v in sorted(labels.items())
        ],
        mounts=[
            docker.ServiceTaskSpecContainerSpecMountArgs(
                type="volume", source=m.volume, target=m.path
            )
            for m in spec.volumes
        ],
        configs=mounted_configs,
        secrets=[
            docker.ServiceTaskSpecContainerSpecSecretArgs(
                secret_id=secrets[s].id, secret_name=secrets[s].name, file_name=s
            )
            for s in deploy.secrets
        ],
        healthcheck=_healthcheck(spec),
    )
    return docker.Service(
        spec.name,
        name=spec.name,
        labels=[docker.ServiceLabelArgs(label=k, value=v) for k, v in namespace.items()],
        task_spec=docker.ServiceTaskSpecArgs(
            container_spec=container,
            networks_advanceds=[
                docker.ServiceTaskSpecNetworksAdvancedArgs(id=network.id, aliases=[spec.service])
            ],
            placement=_placement(deploy),
            restart_policy=docker.ServiceTaskSpecRestartPolicyArgs(
                condition="any" if spec.restart == "unless-stopped" else "on-failure",
                delay="1s",
            ),
        ),
        mode=docker.ServiceModeArgs(
            replicated=docker.ServiceModeReplicatedArgs(replicas=deploy.replicas)
        ),
        # No IPVS on the kernels this runs on: no virtual IP, no ingress mesh.
        endpoint_spec=docker.ServiceEndpointSpecArgs(
            mode="dnsrr",
            ports=[
                docker.ServiceEndpointSpecPortArgs(
                    target_port=p.container_port,
                    published_port=p.host_port,
                    publish_mode="host",
                    protocol="tcp",
                )
                for p in spec.ports
            ],
        ),
        # `pulumi up` returns once every task runs (and fails when they do not within the time).
        converge_config=docker.ServiceConvergeConfigArgs(delay="2s", timeout=_CONVERGE_TIMEOUT),
        opts=pulumi.ResourceOptions(parent=parent),
    )
