#!/usr/bin/env python3
"""Offline, strict validation of deploy/kubernetes (called by deploy/check.sh).

  check_manifests.py kubernetes [--kubernetes-version V ...] FILE...
      Every built-in kind against the Kubernetes JSON schemas that the `kubernetes-validate`
      package bundles, in their strict form (an unknown field is an error, as kubeconform
      -strict). A ServiceMonitor is left to `servicemonitor`; any other kind without a schema is
      an error, never a silent pass.
  check_manifests.py servicemonitor FILE...
      Every ServiceMonitor against a schema made from the prometheus-operator models of the
      `cloudcoil-models-prometheus-operator` package (generated from the CRDs), made strict.
  check_manifests.py servicemonitor-schema DIR
      Writes that schema as DIR/monitoring.coreos.com/servicemonitor_v1.json, for kubeconform's
      -schema-location 'DIR/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'.
  check_manifests.py kustomization DIR
      DIR/kustomization.yaml without kubectl: only known keys, every resource it lists exists and
      parses, every other *.yaml in DIR is listed, and each `images` entry names the image of a
      container in those resources.
  check_manifests.py config SCHEMA FILE...
      The `config.json5` of every ConfigMap against Pincer's config JSON Schema
      (pincer.schema.json), parsed with the `json5` package.

Exit status: 0 valid, 1 invalid, 3 a Python package it needs is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Iterator

MISSING = 3
SERVICEMONITOR_API = "monitoring.coreos.com/v1"


def need(module: str, package: str) -> Any:
    """Imports `module`, or exits 3 naming the PyPI package that provides it."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        print(f"MISSING python module {module} (pip install {package})", file=sys.stderr)
        sys.exit(MISSING)


def documents(paths: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    yaml = need("yaml", "PyYAML")
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc is not None:
                    yield path, doc


def name_of(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def where(error: Any) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(root)"


def explain(error: Any) -> Any:
    """The most telling error inside an anyOf/oneOf ("is not valid under any of the given
    schemas" says nothing), recursively."""
    while error.context:
        # The branch that got furthest into the value (not `null`, of `anyOf: [X, null]`).
        error = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return error


def check_kubernetes(paths: list[str], versions: list[str]) -> int:
    kv = need("kubernetes_validate.utils", "kubernetes-validate")
    failures = 0
    for path, doc in documents(paths):
        if doc.get("apiVersion") == SERVICEMONITOR_API and doc.get("kind") == "ServiceMonitor":
            continue
        if doc.get("apiVersion", "").startswith("kustomize.config.k8s.io/"):
            continue
        for version in versions:
            try:
                used = kv.validate(doc, version, strict=True)
                print(f"ok   {path}: {name_of(doc)} (Kubernetes {used}, strict)")
            except kv.ValidationError as e:
                print(f"FAIL {path}: {name_of(doc)} (Kubernetes {e.version}): {where(e)}: {e.message}")
                failures += 1
            except (kv.SchemaNotFoundError, kv.VersionNotSupportedError) as e:
                print(f"FAIL {path}: {name_of(doc)}: {e.message}")
                failures += 1
    return 1 if failures else 0


def strict(schema: Any) -> Any:
    """Closes every object schema that lists its properties, as kubeconform -strict does."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def servicemonitor_schema() -> dict[str, Any]:
    models = need("cloudcoil.models.prometheus_operator.v1", "cloudcoil-models-prometheus-operator")
    schema = strict(models.ServiceMonitor.model_json_schema(by_alias=True, mode="validation"))
    # The model leaves apiVersion and kind free; the API server does not.
    schema["properties"]["apiVersion"] = {"const": SERVICEMONITOR_API}
    schema["properties"]["kind"] = {"const": "ServiceMonitor"}
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata", "spec"})
    return schema


def check_servicemonitors(paths: list[str]) -> int:
    jsonschema = need("jsonschema", "jsonschema")
    schema = servicemonitor_schema()
    validator = jsonschema.Draft202012Validator(schema)
    failures = seen = 0
    for path, doc in documents(paths):
        if doc.get("kind") != "ServiceMonitor":
            continue
        seen += 1
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in map(explain, errors):
            print(f"FAIL {path}: {name_of(doc)}: {where(e)}: {e.message}")
        if errors:
            failures += 1
        else:
            print(f"ok   {path}: {name_of(doc)} ({SERVICEMONITOR_API}, strict)")
    if not seen:
        print("FAIL no ServiceMonitor found")
        return 1
    return 1 if failures else 0


def write_servicemonitor_schema(directory: str) -> int:
    target = os.path.join(directory, "monitoring.coreos.com")
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "servicemonitor_v1.json"), "w", encoding="utf-8") as f:
        json.dump(servicemonitor_schema(), f)
    return 0


# The Kustomization fields this check knows; any other is an error here (kubectl may know it).
KUSTOMIZATION_KEYS = {
    "apiVersion", "kind", "resources", "components", "namespace", "namePrefix", "nameSuffix",
    "labels", "commonLabels", "commonAnnotations", "images", "replicas", "patches",
    "configMapGenerator", "secretGenerator", "generatorOptions",
}


def containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = doc.get("spec") or {}
    pod = ((spec.get("jobTemplate") or {}).get("spec") or spec).get("template", {}).get("spec") or {}
    for key in ("initContainers", "containers"):
        yield from pod.get(key) or []


def image_name(reference: str) -> str:
    """`registry:5000/app:1.0@sha256:...` -> `registry:5000/app`."""
    head, _, last = reference.split("@", 1)[0].rpartition("/")
    return (head + "/" if head else "") + last.split(":", 1)[0]


def check_kustomization(directory: str) -> int:
    yaml = need("yaml", "PyYAML")
    path = os.path.join(directory, "kustomization.yaml")
    with open(path, encoding="utf-8") as f:
        k = yaml.safe_load(f) or {}
    problems = []
    if k.get("apiVersion") != "kustomize.config.k8s.io/v1beta1" or k.get("kind") != "Kustomization":
        problems.append("apiVersion/kind is not kustomize.config.k8s.io/v1beta1 Kustomization")
    problems += [f"unknown key `{key}`" for key in sorted(set(k) - KUSTOMIZATION_KEYS)]
    resources = k.get("resources") or []
    images = set()
    for resource in resources:
        file = os.path.join(directory, resource)
        if not os.path.isfile(file):
            problems.append(f"resource {resource} does not exist")
            continue
        try:
            for _, doc in documents([file]):
                images.update(image_name(str(c.get("image", ""))) for c in containers(doc))
        except yaml.YAMLError as e:
            problems.append(f"resource {resource} is not YAML: {e}")
    listed = {os.path.normpath(r) for r in resources}
    for name in sorted(os.listdir(directory)):
        if name.endswith((".yaml", ".yml")) and name != "kustomization.yaml" and name not in listed:
            problems.append(f"{name} is not in resources")
    for image in k.get("images") or []:
        if image.get("name") not in images:
            problems.append(f"images: {image.get('name')} is no container's image (they are: {sorted(images)})")
    for problem in problems:
        print(f"FAIL {path}: {problem}")
    if not problems:
        print(f"ok   {path}: {len(resources)} resources, every manifest listed, images {sorted(images)}")
    return 1 if problems else 0


def check_config(schema_path: str, paths: list[str]) -> int:
    json5 = need("json5", "json5")
    jsonschema = need("jsonschema", "jsonschema")
    with open(schema_path, encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    failures = seen = 0
    for path, doc in documents(paths):
        if doc.get("kind") != "ConfigMap":
            continue
        for key, text in (doc.get("data") or {}).items():
            if not key.endswith(".json5"):
                continue
            seen += 1
            label = f"{path}: {name_of(doc)} {key}"
            try:
                config = json5.loads(text)
            except ValueError as e:
                print(f"FAIL {label}: not JSON5: {e}")
                failures += 1
                continue
            errors = list(validator.iter_errors(config))
            for e in map(explain, errors):
                print(f"FAIL {label}: {where(e)}: {e.message}")
            if errors:
                failures += 1
            else:
                print(f"ok   {label} (against {os.path.basename(schema_path)})")
    if not seen:
        print("FAIL no ConfigMap with a .json5 key found")
        return 1
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    k = sub.add_parser("kubernetes")
    k.add_argument("--kubernetes-version", action="append", dest="versions")
    k.add_argument("files", nargs="+")
    s = sub.add_parser("servicemonitor")
    s.add_argument("files", nargs="+")
    w = sub.add_parser("servicemonitor-schema")
    w.add_argument("directory")
    z = sub.add_parser("kustomization")
    z.add_argument("directory")
    c = sub.add_parser("config")
    c.add_argument("schema")
    c.add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "kubernetes":
        return check_kubernetes(args.files, args.versions or ["1.37"])
    if args.command == "servicemonitor":
        return check_servicemonitors(args.files)
    if args.command == "servicemonitor-schema":
        return write_servicemonitor_schema(args.directory)
    if args.command == "kustomization":
        return check_kustomization(args.directory)
    return check_config(args.schema, args.files)


if __name__ == "__main__":
    sys.exit(main())
