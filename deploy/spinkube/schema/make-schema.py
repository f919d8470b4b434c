#!/usr/bin/env python3
"""Make the strict JSON Schema for SpinApp manifests from the vendored SpinKube CRD.

Input:  deploy/spinkube/crd/core.spinkube.dev_spinapps.yaml (spin-operator v0.6.1, Apache-2.0)
Output: deploy/spinkube/schema/spinapp.v1alpha1.strict.json

The CRD's openAPIV3Schema, plus what `kubectl apply --validate=strict` enforces and a bare
schema does not: apiVersion/kind fixed, and unknown fields refused (additionalProperties:
false wherever the CRD lists properties and does not preserve unknown fields), so a typo in
a field name fails validation instead of being silently pruned by the API server.
Usage: python3 make-schema.py   (needs PyYAML or ruamel.yaml)
"""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
CRD = HERE.parent / "crd" / "core.spinkube.dev_spinapps.yaml"
OUT = HERE / "spinapp.v1alpha1.strict.json"


def load_yaml(path):
    try:
        import yaml

        return yaml.safe_load(path.read_text())
    except ImportError:
        from ruamel.yaml import YAML

        return YAML(typ="safe").load(path.read_text())


def strict(node):
    if isinstance(node, dict):
        for value in node.values():
            strict(value)
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
    elif isinstance(node, list):
        for value in node:
            strict(value)
    return node


def main():
    crd = load_yaml(CRD)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    schema = strict(version["schema"]["openAPIV3Schema"])
    # Kubernetes fills metadata; the manifest needs a name, nothing else is checked here.
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}},
    }
    schema["properties"]["apiVersion"] = {"const": "core.spinkube.dev/v1alpha1"}
    schema["properties"]["kind"] = {"const": "SpinApp"}
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "SpinApp core.spinkube.dev/v1alpha1 (strict), from spin-operator v0.6.1"
    OUT.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
