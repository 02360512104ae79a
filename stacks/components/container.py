"""One ContainerSpec -> one docker.Container: the single translation every component uses."""

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_docker as docker

from stacks.model.spec import ContainerSpec, resolve_env, secret_references

__all__ = ["container_env", "declare_container"]


def container_env(
    spec: ContainerSpec, secrets: Mapping[str, pulumi.Output[str]]
) -> pulumi.Output[list[str]]:
    """``KEY=value`` entries, sorted; secret templates filled in, so the whole list is secret."""

    def fill(values: dict[str, str]) -> list[str]:
        env = resolve_env(spec.env, spec.secret_env, values)
        return [f"{key}={value}" for key, value in env.items()]

    names = sorted(set().union(*(secret_references(t) for t in spec.secret_env.values())))
    used = {name: secrets[name] for name in names}
    return pulumi.Output.secret(pulumi.Output.all(**used).apply(fill))


def declare_container(
    spec: ContainerSpec,
    *,
    image: pulumi.Input[str],
    network: docker.Network,
    secrets: Mapping[str, pulumi.Output[str]],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> docker.Container:
    check = spec.healthcheck
    healthcheck = (
        None
        if check is None
        else docker.ContainerHealthcheckArgs(
            tests=["CMD", *check.argv],
            interval=f"{check.interval_s}s",
            timeout=f"{check.timeout_s}s",
            retries=check.retries,
            start_period=f"{check.start_period_s}s",
        )
    )
    one_shot = spec.restart == "on-failure"
    return docker.Container(
        spec.name,
        name=spec.name,
        image=image,
        command=list(spec.command),
        user=spec.user,
        envs=container_env(spec, secrets),
        labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in spec.labels.items()],
        networks_advanced=[
            docker.ContainerNetworksAdvancedArgs(name=network.name, ipv4_address=spec.ip)
        ],
        ports=[
            docker.ContainerPortArgs(
                internal=p.container_port, external=p.host_port, ip=p.host_address, protocol="tcp"
            )
            for p in spec.ports
        ],
        volumes=[
            docker.ContainerVolumeArgs(volume_name=m.volume, container_path=m.path)
            for m in spec.volumes
        ],
        uploads=[
            docker.ContainerUploadArgs(file=path, content=file.content)
            for path, file in sorted(spec.files.items())
        ],
        healthcheck=healthcheck,
        restart=spec.restart,
        # A one-shot container (cluster init) exits when done; long-running ones must stay up,
        # and Pulumi waits for their health check before starting what depends on them.
        must_run=not one_shot,
        wait=check is not None,
        wait_timeout=check.start_period_s + check.retries * check.interval_s + 60
        if check
        else None,
        opts=pulumi.ResourceOptions(
            parent=parent,
            # Fixed container names: the old container must go before its replacement starts.
            delete_before_replace=True,
            depends_on=list(depends_on),
        ),
    )
