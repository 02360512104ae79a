"""The kit's images: built from images/<name>/Dockerfile on one base image, or used as they are.

scripts/build-images builds the same Dockerfiles (and prepares the app's wheel context under
build/images/app), so a Pulumi build and a compose deployment run the same images.

Each built image is a ``docker.RemoteImage`` (the provider's ``docker_image`` resource): it is
rebuilt when the hash of its build context changes (``triggers``), and containers run it by image
id, so a rebuilt image (a new id) replaces exactly the containers that run it.
"""

import hashlib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

__all__ = ["StackImages", "StackImagesArgs", "context_hash"]


@dataclass(frozen=True)
class StackImagesArgs:
    images: Mapping[str, str]  # directory under images/ -> image reference
    base_image: str
    build: bool
    root: Path


def _file_digest(path: Path) -> bytes:
    # A wheel is a zip whose entries carry build timestamps: scripts/build-images rebuilds the
    # project's wheel on every run, so hash its members' names and CRCs (the content), not its
    # bytes, or every `pulumi up` would rebuild the app image and replace its containers.
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            members = sorted(f"{i.filename}:{i.CRC:08x}:{i.file_size}" for i in wheel.infolist())
        return hashlib.sha256("\n".join(members).encode()).digest()
    return hashlib.sha256(path.read_bytes()).digest()


def context_hash(context: Path) -> str:
    """sha256 over the relative path, mode and content of every file under ``context``.

    A missing directory hashes to a marker (the app's context is made by scripts/build-images):
    the program still declares the stack, and the image build then fails naming the context.
    """
    if not context.is_dir():
        return f"missing:{context}"
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode() + b"\0")
        digest.update(oct(path.stat().st_mode & 0o111).encode() + b"\0")
        digest.update(_file_digest(path))
    return digest.hexdigest()


class StackImages(pulumi.ComponentResource):
    """``refs`` maps each image reference to what containers use: the built image's id (so a
    rebuild replaces them), or the reference itself when images are not built."""

    refs: dict[str, pulumi.Input[str]]
    images: dict[str, docker.RemoteImage]

    def __init__(
        self, name: str, args: StackImagesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:Images", name, None, opts)
        self.refs = {}
        self.images = {}
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
            image = docker.RemoteImage(
                f"{name}-{directory}",
                name=ref,
                build=docker.RemoteImageBuildArgs(
                    context=str(context),
                    dockerfile="Dockerfile",
                    build_args={"BASE_IMAGE": args.base_image},
                    # The Dockerfiles run apt-get/pip: the build joins the host's network, as
                    # scripts/build-images does (docker build --network host).
                    network_mode="host",
                    # The legacy builder: no buildx on these machines.
                    version="1",
                ),
                triggers={"context": context_hash(context), "baseImage": args.base_image},
                # Destroying the stack leaves the image (compose deployments use the same tag).
                keep_locally=True,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.images[ref] = image
            self.refs[ref] = image.image_id
        self.register_outputs({"images": list(args.images.values())})
