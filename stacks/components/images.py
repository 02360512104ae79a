"""The kit's images: built from images/<name>/Dockerfile on one base image, or used as they are.

scripts/build-images builds the same Dockerfiles (and prepares the app's wheel context under
build/images/app), so a Pulumi build and a compose deployment run the same images.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

__all__ = ["StackImages", "StackImagesArgs"]


@dataclass(frozen=True)
class StackImagesArgs:
    images: Mapping[str, str]  # directory under images/ -> image reference
    base_image: str
    build: bool
    root: Path


class StackImages(pulumi.ComponentResource):
    """``refs`` maps each image reference to what containers use (the built image's name)."""

    refs: dict[str, pulumi.Input[str]]

    def __init__(
        self, name: str, args: StackImagesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:Images", name, None, opts)
        self.refs = {}
        for directory, ref in args.images.items():
            if not args.build:
                self.refs[ref] = ref
                continue
            # The app's context holds wheels built on the host (no package index in the build).
            context = (
                args.root / "build" / "images" / "app"
                if directory == "app"
                else args.root / "images" / directory
            )
            image = docker.Image(
                f"{name}-{directory}",
                image_name=ref,
                build=docker.DockerBuildArgs(
                    context=str(context),
                    dockerfile=str(context / "Dockerfile"),
                    args={"BASE_IMAGE": args.base_image},
                    network="host",
                    builder_version=docker.BuilderVersion.BUILDER_V1,
                ),
                skip_push=True,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.refs[ref] = image.image_name
        self.register_outputs({"images": list(args.images.values())})
