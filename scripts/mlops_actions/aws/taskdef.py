"""Render an ECS task definition for registration. Pure: dicts in, dicts out, no AWS calls.

- Accepts a RegisterTaskDefinition-style document, a console export, or DescribeTaskDefinition
  output (`{"taskDefinition": {...}, "tags": [...]}`).
- Drops every key that RegisterTaskDefinition does not take. The allowed keys come from the
  caller (the adapter reads them from botocore's service model), so new AWS fields keep working.
- Sets the image of one or several containers, sets or overrides environment variables, and
  optionally the task and execution role ARNs (format checked).
- Drops empty values (null, "", [], {}) recursively before registering, as the AWS deploy
  action does, since RegisterTaskDefinition rejects many of them (`"ipcMode": null`); keys named
  in keep-null-value-keys keep theirs.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.errors import UserError, shown

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
TASK_DEFINITION_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/[A-Za-z0-9_-]{1,255}:\d+$"
)
FAMILY = re.compile(r"^[A-Za-z0-9_-]{1,255}(:\d+)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Changes:
    """What to change in the task definition."""

    images: Mapping[str, str] = field(default_factory=dict)  # container -> image
    # container -> {name: value}; the key "*" means every container whose image is set
    environment: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    task_role_arn: str | None = None
    execution_role_arn: str | None = None
    # container -> {name: Secrets Manager or SSM parameter ARN}, merged into the container's
    # secrets; the key "*" means every container whose image is set (as for environment)
    secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # What aws-actions' render action also sets, on every container whose image is set:
    env_files: tuple[str, ...] = ()  # S3 ARNs; they replace environmentFiles
    docker_labels: Mapping[str, str] = field(default_factory=dict)  # merged into dockerLabels
    log_driver: str | None = None
    log_options: Mapping[str, str] = field(default_factory=dict)  # merged into options
    command: tuple[str, ...] | None = None  # replaces the container's command

    def any(self) -> bool:
        return bool(
            self.images or self.environment or self.task_role_arn or self.execution_role_arn
            or self.secrets or self.env_files or self.docker_labels or self.log_driver
            or self.log_options or self.command is not None
        )  # fmt: skip


def unwrap(document: Any, source: str) -> dict[str, Any]:
    """The task definition inside a file: bare, or DescribeTaskDefinition's wrapper."""
    if not isinstance(document, Mapping):
        raise UserError(
            f"{source}: expected a JSON object (a task definition), got {type(document).__name__}",
            file=source,
        )
    inner = document.get("taskDefinition", document)
    if not isinstance(inner, Mapping):
        raise UserError(f"{source}: field 'taskDefinition' must be an object", file=source)
    containers = inner.get("containerDefinitions")
    if not isinstance(containers, list) or not containers:
        raise UserError(
            f"{source}: field 'containerDefinitions' must be a non-empty list of containers",
            file=source,
        )
    for index, container in enumerate(containers):
        if not isinstance(container, Mapping) or not isinstance(container.get("name"), str):
            raise UserError(
                f"{source}: containerDefinitions[{index}].name is missing; "
                "every container needs a name",
                file=source,
            )
    if not isinstance(inner.get("family"), str) or not FAMILY.match(str(inner["family"])):
        raise UserError(
            f"{source}: field 'family' must be 1-255 letters, digits, '-' or '_'", file=source
        )
    return dict(inner)


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | dict) and not value)


def drop_empty(value: Any, keep: Collection[str] = ()) -> Any:
    """A copy without null, "", [] and {} (recursively); false and 0 stay. Values under a key
    in `keep` are kept as they are."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if key in keep:
                out[key] = copy.deepcopy(item)
                continue
            cleaned = drop_empty(item, keep)
            if not _empty(cleaned):
                out[key] = cleaned
        return out
    if isinstance(value, list):
        items = [drop_empty(item, keep) for item in value]
        return [item for item in items if not _empty(item)]
    return value


def parse_keep_keys(text: str) -> frozenset[str]:
    keys = frozenset(_items(text))
    bad = [k for k in keys if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", k)]
    if bad:
        raise UserError(
            f"keep-null-value-keys: {shown(bad[0])} is not a task definition key; give key "
            "names separated by commas, e.g. hostPort,cpu"
        )
    return keys


def for_registration(
    base: Mapping[str, Any],
    changes: Changes,
    source: str,
    allowed_keys: Collection[str],
    keep_empty: Collection[str] = (),
) -> dict[str, Any]:
    """The document to send to RegisterTaskDefinition: cleaned, changed, only allowed keys."""
    return registrable(render(drop_empty(base, keep_empty), changes, source), allowed_keys)


def registrable(taskdef: Mapping[str, Any], allowed_keys: Collection[str]) -> dict[str, Any]:
    """Only the keys RegisterTaskDefinition accepts (drops revision, status, registeredAt...)."""
    return {k: copy.deepcopy(v) for k, v in taskdef.items() if k in allowed_keys}


def check_role_arn(value: str, field_name: str) -> str:
    if not ROLE_ARN.match(value):
        raise UserError(
            f"{field_name}: {shown(value)} is not an IAM role ARN; expected "
            "arn:aws:iam::<12-digit account>:role/<name>"
        )
    return value


def parse_images(text: str, field_name: str = "containers") -> dict[str, str]:
    """`name=image` lines (or comma-separated) into {container: image}."""
    images: dict[str, str] = {}
    for number, item in enumerate(_items(text), start=1):
        name, sep, image = item.partition("=")
        if not sep or not name.strip() or not image.strip() or " " in image.strip():
            raise UserError(
                f"{field_name}: item {number} {shown(item)}: expected 'container-name=image', "
                "e.g. 'web=ghcr.io/acme/app@sha256:...'"
            )
        images[name.strip()] = image.strip()
    return images


SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:.+"
    r"|ssm:[a-z0-9-]+:\d{12}:parameter/.+)$"
)


def parse_secrets(text: str, field_name: str = "secrets") -> dict[str, str]:
    """`NAME=<Secrets Manager or SSM parameter ARN>` lines: ECS injects the value at start."""
    out: dict[str, str] = {}
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        name, sep, arn = line.strip().partition("=")
        if not sep or not _ENV_NAME.match(name.strip()) or not SECRET_ARN.match(arn.strip()):
            raise UserError(
                f"{field_name}: line {number} {shown(line.strip())}: expected NAME=ARN with a "
                "Secrets Manager secret or SSM parameter ARN, e.g. "
                "DB_PASSWORD=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
            )
        out[name.strip()] = arn.strip()
    return out


LOG_DRIVERS = (
    "json-file", "syslog", "journald", "logentries", "gelf", "fluentd", "awslogs", "splunk",
    "awsfirelens",
)  # fmt: skip
# Bucket names as S3 has allowed them (legacy us-east-1 names may hold '_' and capitals).
S3_OBJECT_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::[A-Za-z0-9._-]{3,255}/[^\s]+$")


def parse_prefixed_secrets(text: str, field_name: str = "secrets") -> dict[str, dict[str, str]]:
    """`NAME=ARN` (every deployed container) or `container:NAME=ARN` lines."""
    out: dict[str, dict[str, str]] = {}
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        target, sep, arn = line.strip().partition("=")
        container, colon, name = target.rpartition(":")
        if not colon or container.startswith("arn"):
            container, name = "*", target
        if not sep or not _ENV_NAME.match(name.strip()) or not SECRET_ARN.match(arn.strip()):
            raise UserError(
                f"{field_name}: line {number} {shown(line.strip())}: expected NAME=ARN (or "
                "container:NAME=ARN) with a Secrets Manager secret or SSM parameter ARN, e.g. "
                "DB_PASSWORD=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
            )
        out.setdefault(container, {})[name.strip()] = arn.strip()
    return out


def parse_env_files(text: str, field_name: str = "env-files") -> tuple[str, ...]:
    files = []
    for number, line in enumerate((ln.strip() for ln in text.splitlines() if ln.strip()), 1):
        if not S3_OBJECT_ARN.match(line):
            raise UserError(
                f"{field_name}: line {number} {shown(line)}: expected the S3 ARN of an .env "
                "object, e.g. arn:aws:s3:::my-bucket/app.env"
            )
        files.append(line)
    return tuple(files)


def parse_pairs(text: str, field_name: str) -> dict[str, str]:
    """`key=value` lines; the value keeps any further `=` (unlike aws-actions' render)."""
    out: dict[str, str] = {}
    for number, line in enumerate((ln.strip() for ln in text.splitlines() if ln.strip()), 1):
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise UserError(
                f"{field_name}: line {number} {shown(line)}: expected key=value, one per line"
            )
        out[key.strip()] = value
    return out


def parse_log_driver(text: str, field_name: str = "log-configuration-log-driver") -> str | None:
    driver = text.strip()
    if driver and driver not in LOG_DRIVERS:
        raise UserError(f"{field_name}: {shown(driver)} is not one of {', '.join(LOG_DRIVERS)}")
    return driver or None


def parse_command(text: str, field_name: str = "command") -> tuple[str, ...] | None:
    """The container command, split as a shell would (quotes keep words together)."""
    if not text.strip():
        return None
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise UserError(f"{field_name}: {shown(text)}: {exc}") from None


def parse_environment(text: str, field_name: str = "environment") -> dict[str, dict[str, str]]:
    """`KEY=VALUE` (every deployed container) or `container:KEY=VALUE` lines."""
    out: dict[str, dict[str, str]] = {}
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        if line.lstrip().startswith("#"):
            continue
        target, sep, value = line.strip().partition("=")
        container, colon, name = target.rpartition(":")
        if not colon:
            container = "*"
        if not sep or not _ENV_NAME.match(name):
            raise UserError(
                f"{field_name}: line {number} {shown(line.strip())}: expected 'KEY=VALUE' or "
                "'container:KEY=VALUE' with KEY a valid variable name"
            )
        out.setdefault(container, {})[name] = value
    return out


def _items(text: str) -> list[str]:
    return [p.strip() for line in text.splitlines() for p in line.split(",") if p.strip()]


def _targets(
    target: str, changes: Changes, containers: list[Any], by_name: Mapping[str, Any],
    what: str, source: str,
) -> list[str]:  # fmt: skip
    """The containers a `*` (every deployed container) or a named target stands for."""
    known = ", ".join(by_name)
    if target == "*":
        names = list(changes.images) or ([containers[0]["name"]] if len(containers) == 1 else [])
        if not names:
            raise UserError(
                f"{what}: several containers and none being deployed; prefix each line "
                f"with the container, e.g. '{containers[0]['name']}:...'"
            )
        return names
    if target not in by_name:
        raise UserError(
            f"{source}: {what} names container '{target}', which is not in "
            f"containerDefinitions (containers: {known})",
            file=source,
        )
    return [target]


def _merge_named(entries: list[Any], updates: Mapping[str, str], value_key: str) -> list[Any]:
    """Update entries in place by name, append new ones: as aws-actions' render does."""
    merged = [dict(e) for e in entries]
    for name, value in updates.items():
        found = next((e for e in merged if e.get("name") == name), None)
        if found is not None:
            found[value_key] = value
        else:
            merged.append({"name": name, value_key: value})
    return merged


def render(taskdef: Mapping[str, Any], changes: Changes, source: str) -> dict[str, Any]:
    """Apply the changes to a copy of the task definition."""
    out = copy.deepcopy(dict(taskdef))
    containers = out["containerDefinitions"]
    by_name = {c["name"]: c for c in containers}
    known = ", ".join(by_name)
    for name, image in changes.images.items():
        if name not in by_name:
            raise UserError(
                f"{source}: no container named '{name}' in containerDefinitions (containers: "
                f"{known}); fix the containers / container-name input",
                file=source,
            )
        by_name[name]["image"] = image
    for target, variables in changes.environment.items():
        for name in _targets(target, changes, containers, by_name, "environment", source):
            entries = _environment_entries(by_name[name], source, containers)
            by_name[name]["environment"] = _merge_named(entries, variables, "value")
    for target, secrets in changes.secrets.items():
        for name in _targets(target, changes, containers, by_name, "secrets", source):
            entries = [e for e in by_name[name].get("secrets") or [] if isinstance(e, Mapping)]
            by_name[name]["secrets"] = _merge_named(entries, secrets, "valueFrom")
    per_container = (
        changes.env_files or changes.docker_labels or changes.log_driver or changes.log_options
        or changes.command is not None
    )  # fmt: skip
    for name in (
        _targets("*", changes, containers, by_name, "render", source) if per_container else []
    ):
        container = by_name[name]
        if changes.env_files:
            container["environmentFiles"] = [{"value": f, "type": "s3"} for f in changes.env_files]
        if changes.docker_labels:
            container["dockerLabels"] = {
                **(container.get("dockerLabels") or {}),
                **changes.docker_labels,
            }
        if changes.log_driver or changes.log_options:
            logging = dict(container.get("logConfiguration") or {})
            if changes.log_driver:
                logging["logDriver"] = changes.log_driver
            if changes.log_options:
                logging["options"] = {**(logging.get("options") or {}), **changes.log_options}
            container["logConfiguration"] = logging
        if changes.command is not None:
            container["command"] = list(changes.command)
    if changes.task_role_arn:
        out["taskRoleArn"] = check_role_arn(changes.task_role_arn, "task-role-arn")
    if changes.execution_role_arn:
        out["executionRoleArn"] = check_role_arn(changes.execution_role_arn, "execution-role-arn")
    return out


def _environment_entries(
    container: Mapping[str, Any], source: str, containers: list[Any]
) -> list[Mapping[str, Any]]:
    entries = container.get("environment") or []
    index = containers.index(container)
    if not isinstance(entries, list):
        raise UserError(
            f"{source}: containerDefinitions[{index}].environment must be a list of "
            '{"name": ..., "value": ...}',
            file=source,
        )
    for number, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise UserError(
                f"{source}: containerDefinitions[{index}].environment[{number}] has no name; "
                'every entry needs {"name": "KEY", "value": "..."}',
                file=source,
            )
    return entries


# What ECS fills in when it stores a definition: leaving one out means the same as the default.
_TOP_DEFAULTS: dict[str, Any] = {"networkMode": "bridge"}
_CONTAINER_DEFAULTS: dict[str, Any] = {"essential": True, "cpu": 0}
_PORT_DEFAULTS: dict[str, Any] = {"protocol": "tcp"}
_HEALTH_CHECK_DEFAULTS: dict[str, Any] = {"interval": 30, "timeout": 5, "retries": 3}


def _without(mapping: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in defaults or defaults[k] != v}


def _normalise_container(container: Mapping[str, Any], network_mode: str) -> dict[str, Any]:
    out = _without(container, _CONTAINER_DEFAULTS)
    ports = []
    for port in out.get("portMappings") or []:
        port = _without(port, _PORT_DEFAULTS)
        # awsvpc and host networking map a port to itself: ECS reports hostPort = containerPort.
        if network_mode in ("awsvpc", "host") and port.get("hostPort") == port.get("containerPort"):
            port.pop("hostPort", None)
        ports.append(port)
    if ports:
        out["portMappings"] = ports
    if isinstance(out.get("healthCheck"), Mapping):
        out["healthCheck"] = _without(out["healthCheck"], _HEALTH_CHECK_DEFAULTS)
    for key in ("environment", "secrets"):  # order carries no meaning
        if isinstance(out.get(key), list):
            out[key] = sorted(
                out[key], key=lambda e: str(e.get("name")) if isinstance(e, Mapping) else str(e)
            )
    return out


def _normalise(taskdef: Mapping[str, Any]) -> Any:
    network_mode = str(taskdef.get("networkMode") or "bridge")
    out = _without(drop_empty(taskdef), _TOP_DEFAULTS)
    out["containerDefinitions"] = [
        _normalise_container(c, network_mode) for c in out.get("containerDefinitions") or []
    ]
    return drop_empty(out)


def same_definition(
    ours: Mapping[str, Any], current: Mapping[str, Any], allowed_keys: Collection[str]
) -> bool:
    """True when registering ours would only repeat the current revision."""
    mine = _normalise(registrable(ours, allowed_keys))
    theirs = _normalise(registrable(current, allowed_keys))
    return bool(mine == theirs)


def images_of(taskdef: Mapping[str, Any]) -> dict[str, str]:
    return {c["name"]: str(c.get("image", "")) for c in taskdef.get("containerDefinitions", [])}
