"""The workspace container spec: each rule, by comparing whole values, with no runtime."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

import pytest

from agoria_tre.hub import docker as docker_api
from agoria_tre.hub.spec import (
    ContainerSpec,
    Limits,
    Mount,
    MountedVersion,
    ProjectNetwork,
    WorkspaceSettings,
    safe_name,
    workspace_spec,
)

HOME = Path("/srv/agoria")
UID = "7d0c5f0e-2b7a-4d47-9c1e-3f1d2a9b8c01"
LIMITS = Limits(memory_bytes=4 << 30, cpus=1.5, pids=512, tmp_bytes=256 << 20)
SETTINGS = WorkspaceSettings(
    home=HOME, image="localhost/agoria-workspace:0123456789abcdef", limits=LIMITS, hub_port=8081
)
NETWORK = ProjectNetwork("agoria-ws-cardio", ipaddress.IPv4Network("10.213.7.0/24"))


def spec_for(
    versions: list[MountedVersion], user: str = "alice", settings: WorkspaceSettings = SETTINGS
) -> ContainerSpec:
    return workspace_spec(
        project_slug="cardio",
        project_uid=UID,
        user=user,
        versions=versions,
        network=NETWORK,
        settings=settings,
    )


def test_the_whole_spec() -> None:
    spec = spec_for([MountedVersion("treatments", 2), MountedVersion("patients", 1)])
    storage = HOME / "workspaces" / UID
    assert spec == ContainerSpec(
        name="agoria-ws-cardio-alice",
        image="localhost/agoria-workspace:0123456789abcdef",
        user="1000:1000",
        mounts=(
            Mount(HOME / "copies" / UID / "patients" / "v1", "/data/patients/v1", True),
            Mount(HOME / "copies" / UID / "treatments" / "v2", "/data/treatments/v2", True),
            Mount(storage / "project", "/project", False),
            Mount(storage / "homes" / "alice", "/home/researcher", False),
        ),
        tmpfs=(("/tmp", f"rw,nosuid,nodev,noexec,size={256 << 20}"),),
        network=NETWORK,
        hub_connect_url="http://10.213.7.1:8081",
        env=(
            ("AGORIA_DATA", "/data"),
            ("AGORIA_PROJECT", "cardio"),
            ("AGORIA_PROJECT_DIR", "/project"),
            ("AGORIA_USER", "alice"),
            ("HOME", "/home/researcher"),
            ("MPLCONFIGDIR", "/home/researcher/.config/matplotlib"),
            ("PYTHONDONTWRITEBYTECODE", "1"),
            ("USER", "researcher"),
        ),
        limits=LIMITS,
        labels=(
            ("org.agoria-tre.datasets", "patients@1,treatments@2"),
            ("org.agoria-tre.project", "cardio"),
            ("org.agoria-tre.project-uid", UID),
            ("org.agoria-tre.user", "alice"),
        ),
        cap_drop=("ALL",),
        security_opt=("no-new-privileges",),
        read_only_root=True,
        mounted=(MountedVersion("patients", 1), MountedVersion("treatments", 2)),
    )


def test_only_mountable_versions_are_mounted_and_all_of_them_read_only() -> None:
    spec = spec_for([MountedVersion("patients", 1)])
    data = [m for m in spec.mounts if m.target.startswith("/data")]
    assert data == [Mount(HOME / "copies" / UID / "patients" / "v1", "/data/patients/v1", True)]
    assert spec_for([]).mounts == spec_for([]).mounts[-2:]  # nothing under /data


def test_the_same_version_granted_twice_is_mounted_once() -> None:
    twice = spec_for([MountedVersion("patients", 1), MountedVersion("patients", 1)])
    assert [m.target for m in twice.mounts].count("/data/patients/v1") == 1


def test_nothing_from_the_host_but_copies_and_the_projects_storage() -> None:
    spec = spec_for([MountedVersion("patients", 1)])
    for mount in spec.mounts:
        assert mount.source.is_relative_to(HOME / "copies" / UID) or mount.source.is_relative_to(
            HOME / "workspaces" / UID
        )
    writable = {m.target for m in spec.mounts if not m.read_only}
    assert writable == {"/project", "/home/researcher"}


def test_each_user_has_a_home_of_their_own_per_project() -> None:
    alice = spec_for([], user="alice")
    bob = spec_for([], user="bob")
    assert alice.mounts[-1].source != bob.mounts[-1].source
    assert alice.mounts[-2] == bob.mounts[-2]  # /project is shared
    assert alice.name != bob.name


@pytest.mark.parametrize(
    ("user", "folder"),
    [
        ("alice", "alice"),
        ("Alice.Martin@chu-lyon.fr", "alice-2emartin-40chu-2dlyon-2efr"),
        ("../root", "-2e-2e-2froot"),
        ("é", "-c3-a9"),
    ],
)
def test_user_names_become_safe_folder_names(user: str, folder: str) -> None:
    assert safe_name(user) == folder
    assert spec_for([], user=user).mounts[-1].source.name == folder


def test_distinct_users_never_share_a_folder() -> None:
    assert safe_name("a.b") != safe_name("a-2eb")
    assert safe_name("a-2eb") == "a-2d2eb"


def test_hardening() -> None:
    spec = spec_for([])
    assert spec.cap_drop == ("ALL",)
    assert spec.security_opt == ("no-new-privileges",)
    assert spec.read_only_root
    assert spec.user == "1000:1000"
    assert spec.limits == LIMITS


def test_the_hub_is_reached_on_the_projects_gateway() -> None:
    assert spec_for([]).hub_connect_url == "http://10.213.7.1:8081"
    assert NETWORK.gateway == ipaddress.IPv4Address("10.213.7.1")


def test_the_airlock_is_reached_on_the_projects_gateway_when_there_is_one() -> None:
    assert "AGORIA_AIRLOCK_URL" not in spec_for([]).environment
    with_airlock = dataclasses.replace(SETTINGS, airlock_port=8082)
    env = spec_for([], settings=with_airlock).environment
    assert env["AGORIA_AIRLOCK_URL"] == "http://10.213.7.1:8082/services/airlock/"


def test_no_secret_enters_the_environment() -> None:
    env = spec_for([MountedVersion("patients", 1)]).environment
    assert not [k for k in env if "KEY" in k or "TOKEN" in k or "SECRET" in k or "DB" in k]
    assert env["AGORIA_PROJECT"] == "cardio"


def test_docker_translation_keeps_every_rule() -> None:
    spec = spec_for([MountedVersion("patients", 1)])
    assert docker_api.host_config(spec) == {
        "mounts": [
            {
                "Type": "bind",
                "Source": str(HOME / "copies" / UID / "patients" / "v1"),
                "Target": "/data/patients/v1",
                "ReadOnly": True,
                "BindOptions": {"Propagation": "rprivate"},
            },
            {
                "Type": "bind",
                "Source": str(HOME / "workspaces" / UID / "project"),
                "Target": "/project",
                "ReadOnly": False,
                "BindOptions": {"Propagation": "rprivate"},
            },
            {
                "Type": "bind",
                "Source": str(HOME / "workspaces" / UID / "homes" / "alice"),
                "Target": "/home/researcher",
                "ReadOnly": False,
                "BindOptions": {"Propagation": "rprivate"},
            },
        ],
        "tmpfs": {"/tmp": f"rw,nosuid,nodev,noexec,size={256 << 20}"},
        "network_mode": "agoria-ws-cardio",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "read_only": True,
        "privileged": False,
        "devices": [],
        "ipc_mode": "private",
        "sysctls": {
            "net.ipv6.conf.all.disable_ipv6": "1",
            "net.ipv6.conf.default.disable_ipv6": "1",
        },
        "mem_limit": 4 << 30,
        "memswap_limit": 4 << 30,
        "nano_cpus": 1_500_000_000,
        "pids_limit": 512,
    }


def test_docker_environment_lets_the_spec_win_over_the_hub() -> None:
    spec = spec_for([])
    kwargs = docker_api.create_kwargs(
        spec,
        environment={"JUPYTERHUB_API_TOKEN": "t", "HOME": "/root"},
        command=["jupyterhub-singleuser"],
    )
    assert kwargs["environment"]["HOME"] == "/home/researcher"
    assert kwargs["environment"]["JUPYTERHUB_API_TOKEN"] == "t"
    assert kwargs == {
        "image": spec.image,
        "name": "agoria-ws-cardio-alice",
        "command": ["jupyterhub-singleuser"],
        "user": "1000:1000",
        "environment": kwargs["environment"],
        "labels": dict(spec.labels),
        "working_dir": "/home/researcher",
        "hostname": "workspace",
    }
