"""Each check passes on the good fixture tree and fails on the broken fixture written for it."""

import pytest

from deploy.check.budget import fmt_mem
from deploy.check.workloads import cpu_millis, mem_bytes


def test_good_tree_passes_every_check(tree):
    r = tree()
    assert {c: e for c, e in r.results.items() if e} == {}, r.output
    assert "29 objects valid" in r.output  # raw manifests and the kustomize build, patches excluded


def test_good_tree_budget_table(tree):
    r = tree(only=["budget"])
    # worker 2: lapis 250m/256Mi + node-exporter 50m/32Mi + speaker 50m/64Mi, plus the unpinned order pod
    # (150m/192Mi with its daprd sidecar) and coredns (100m/70Mi), both charged to the node with most room.
    assert "| homelab-worker-2 | storage | 600m | 15.0 % | 614 MiB | 7.5 % | 5 | yes |" in r.output
    assert "dapr-operator (chart vcluster:argocd/dapr): 1 x (20m CPU, 64 MiB)" in r.output
    assert "| homelab-master | control-plane | 450m | 11.2 % | 1.66 GiB | 20.7 % | 4 | yes |" in r.output
    assert "vcluster-test-0 (chart kube-system/vcluster-test): 1 x (200m CPU, 512 MiB)" in r.output


@pytest.mark.parametrize("broken, check, expected", [
    ("schema-unknown-field.yaml", "schema", "additional properties 'replica' not allowed"),
    ("schema-no-schema.yaml", "schema", "no schema for Certificate (cert-manager.io/v1)"),
    ("schema-xr-unknown-field.yaml", "schema", "additional properties 'name' not allowed"),
    ("helm-bad-values.yaml", "helm", "values speaker.enabled: 'yes' is not of type 'boolean'"),
    ("refs-service-selector.yaml", "refs", "selector {'app.kubernetes.io/name': 'lapsi'} matches no pod template"),
    ("refs-target-port.yaml", "refs", "targetPort 'metrics' is not a container port of the selected pods"),
    ("refs-ingressroute.yaml", "refs", "service lapis/lapis has no port 'web'"),
    ("refs-ingressroute.yaml", "refs", "service lapis/grafana does not exist"),
    ("refs-servicemonitor.yaml", "refs", "endpoint port 'http-metrics' is not a named port of lapis/lapis"),
    ("refs-pvc-storageclass.yaml", "refs", "storageClassName 'longhorn' does not exist"),
    ("refs-missing-secret.yaml", "refs", "Secret monitoring/grafana-admin is neither a manifest nor listed in owner-created"),
    ("refs-missing-secret.yaml", "refs", "volume dashboards: ConfigMap monitoring/dashboards is neither"),
    ("refs-missing-namespace.yaml", "refs", "namespace 'nginx' is not declared by a Namespace manifest"),
    ("refs-node-selector.yaml", "refs", "nodeSelector {'homelab.lan/role': 'gpu'} matches no node's labels"),
    ("budget-over.yaml", "budget", "node homelab-worker-2 is over budget"),
    ("budget-no-limits.yaml", "budget", "container nolimits has no resources.requests.cpu, resources.limits.cpu, "
                                        "resources.limits.memory"),
    ("budget-chart-unplaced.yaml", "budget", "no entry 'kube-system/loki' under charts: in placements.yaml"),
    ("budget-provider-unplaced.yaml", "budget", "give it a DeploymentRuntimeConfig with resources, or add a static: entry with object: Provider/provider-http"),
    ("hardening-privileged-root.yaml", "hardening", "container rooty is privileged"),
    ("hardening-privileged-root.yaml", "hardening", "container rooty runs as root (runAsUser: 0)"),
    ("hardening-latest.yaml", "hardening", "image 'nginx:latest' is not pinned"),
    ("hardening-latest.yaml", "hardening", "image 'docker.io/library/busybox' has no tag"),
    ("hardening-latest.yaml", "hardening", "container latest may run as root"),
    ("hardening-chart-unpinned.yaml", "hardening", "HelmChart has no version:"),
    ("hardening-chart-unpinned.yaml", "hardening", "values image.tag = 'latest' is not pinned"),
    ("hardening-chart-root.yaml", "hardening", "values alloy.securityContext.privileged asks for privileged"),
    ("hardening-chart-root.yaml", "hardening", "values alloy.securityContext.runAsUser asks for runAsRoot"),
    ("lint-bad.yaml", "lint", "trailing spaces"),
    ("lint-bad.yaml", "lint", "line too long"),
    ("lint-bad.yaml", "lint", 'duplication of key "a"'),
])
def test_broken_fixture_fails_its_check(tree, broken, check, expected):
    r = tree(broken, only=[check])
    assert r.results[check], f"{broken} passed {check}:\n{r.output}"
    assert expected in r.errors(check), r.output


def test_vcluster_scope_is_separate(tree):
    r = tree("refs-vcluster-scope.yaml", into="vcluster-apps", only=["refs"])
    errors = r.errors("refs")
    assert "[vcluster] IngressRoute orders/metrics" in errors
    assert "namespace 'monitoring' is not declared" not in errors  # the IngressRoute itself lives in orders
    assert "service monitoring/node-exporter does not exist" in errors


def test_vcluster_sees_replicated_lapis_and_owner_secret(tree):
    (tree.root / "vcluster-apps" / "probe.yaml").write_text(
        "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: blob\n  namespace: orders\n"
        "spec:\n  routes:\n    - match: Host(`b.lan`)\n      kind: Rule\n      services:\n"
        "        - {name: lapis, namespace: default, port: blob}\n")
    r = tree(only=["refs"])
    assert r.results["refs"] == [], r.output


def test_chart_without_schema_is_listed_not_failed(tree):
    r = tree("helm-no-schema.yaml", only=["helm"])
    assert r.results["helm"] == []
    assert "HelmChart kube-system/crossplane (chart crossplane 2.2.4): not checked (no published schema)" in r.output


def test_allowlist_needs_a_reason(tree):
    p = tree.root / "check" / "placements.yaml"
    p.write_text(p.read_text().replace("    reason: node-exporter reads the host's processes (/proc of PID 1)\n", ""))
    r = tree(only=["hardening"])
    assert "hostPID: true (not in the hardening allowlist)" in r.errors("hardening")


def test_chart_resources_read_from_values(tree):
    p = tree.root / "host" / "vcluster.yaml"
    p.write_text(p.read_text().replace("requests: {cpu: 200m, memory: 512Mi}", "requests: {cpu: 200m, memory: 7Gi}"))
    r = tree(only=["budget"])
    assert "node homelab-worker-1 is over budget" in r.errors("budget")


def test_kustomize_example_and_patch_files_are_not_applied(tree):
    r = tree(only=["refs", "schema"])
    assert "accounts-secret.example.yaml" not in r.output
    assert r.results == {"refs": [], "schema": []}


def test_quantities():
    assert cpu_millis("250m") == 250 and cpu_millis("2") == 2000 and cpu_millis(0.5) == 500
    assert mem_bytes("1Gi") == 2**30 and mem_bytes("1596M") == 1.596e9 and mem_bytes("64Mi") == 64 * 2**20
    assert fmt_mem(1.5 * 2**30) == "1.50 GiB" and fmt_mem(64 * 2**20) == "64 MiB"


def test_chart_created_services_are_declared_in_placements(tree):
    (tree.root / "host" / "grafana-route.yaml").write_text(
        "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: grafana\n  namespace: monitoring\n"
        "spec:\n  routes:\n    - match: Host(`grafana.homelab.lan`)\n      kind: Rule\n      services:\n"
        "        - {name: grafana, port: 80}\n")
    assert "service monitoring/grafana does not exist" in tree(only=["refs"]).errors("refs")
    p = tree.root / "check" / "placements.yaml"
    p.write_text(p.read_text().replace("  kube-system/metallb:\n", "  kube-system/metallb:\n    services:\n"
                                       "      - {namespace: monitoring, name: grafana, ports: [80]}\n"))
    assert tree(only=["refs"]).results["refs"] == []


def test_partial_placements_are_laid_over_the_checkers(tree):
    """A branch's placements.yaml without nodes: (written before the checker's was merged) is merged with it."""
    from deploy.check.config import load_config
    p = tree.root / "check" / "placements.yaml"
    p.write_text("static:\n  - {name: extra, node: homelab-worker-1, requests: {cpu: 1m, memory: 1Mi},"
                 " limits: {cpu: 1m, memory: 1Mi}, source: test}\n")
    cfg = load_config(tree.root)
    assert set(cfg.nodes) == {"homelab-master", "homelab-worker-1", "homelab-worker-2"}
    assert [e["name"] for e in cfg.placements["static"]] == ["extra"]
    assert any(e["name"] == "coredns" for e in cfg.placements["k3s"])


def test_crossplane_package_pod_budgeted_from_its_runtime_config(tree):
    (tree.root / "host" / "provider.yaml").write_text(
        "apiVersion: pkg.crossplane.io/v1\nkind: Provider\nmetadata:\n  name: provider-http\nspec:\n"
        "  package: xpkg.crossplane.io/crossplane-contrib/provider-http:v1.0.14\n  runtimeConfigRef:\n"
        "    apiVersion: pkg.crossplane.io/v1beta1\n    kind: DeploymentRuntimeConfig\n    name: provider-http\n---\n"
        "apiVersion: pkg.crossplane.io/v1beta1\nkind: DeploymentRuntimeConfig\nmetadata:\n  name: provider-http\n"
        "spec:\n  deploymentTemplate:\n    spec:\n      selector: {}\n      template:\n        spec:\n"
        "          nodeSelector: {homelab.lan/role: control-plane}\n          containers:\n"
        "            - name: package-runtime\n              resources:\n"
        "                requests: {cpu: 20m, memory: 64Mi}\n                limits: {cpu: 250m, memory: 192Mi}\n")
    r = tree(only=["budget", "schema"])
    assert r.results == {"budget": [], "schema": []}, r.output
    assert "Provider provider-http (runtime provider-http): 1 x (20m CPU, 64 MiB)" in r.output


def test_argo_application_chart_pinned_and_budgeted(tree):
    r = tree("hardening-application-unpinned.yaml", into="vcluster-apps", only=["hardening", "budget", "helm"])
    assert "Application vcluster:argocd/rollouts (chart argo-rollouts 2.*): chart version '2.*' is not pinned" \
        in r.errors("hardening")
    assert "values controller.image.tag = 'latest' is not pinned" in r.errors("hardening")
    assert "no entry 'vcluster:argocd/rollouts' under charts:" in r.errors("budget")
    assert "Application vcluster:argocd/rollouts (chart argo-rollouts 2.*): not checked (no published schema)" in r.output


def test_core_schemas_are_made_local():
    """kubernetes-validate's schemas, rewritten for kubeconform: no $id, every $ref to the file beside them."""
    import json
    import tempfile
    from pathlib import Path

    from deploy.check.schema import core_schema_dir
    with tempfile.TemporaryDirectory() as cache:
        d = core_schema_dir("v1.34.2+k3s1", cache=cache)
        assert d.name == "v1.34.0-local-strict"
        text = (Path(d) / "deployment-apps-v1.json").read_text()
        assert '"$id"' not in text and "/api/_definitions.json" not in text
        assert '"_definitions.json#/$defs/io.k8s.api.apps.v1.DeploymentSpec"' in text
        assert json.loads((Path(d) / "_definitions.json").read_text())["$defs"]


def test_pod_level_exception_listed_for_a_named_container(tree):
    p = tree.root / "check" / "placements.yaml"
    p.write_text(p.read_text().replace('    container: "*"\n', "    container: node-exporter\n"))
    r = tree(only=["hardening"])
    assert r.results["hardening"] == [], r.output
    assert "1 allowlisted exceptions used" in r.output


APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: components
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://example.invalid/lapis.git
    path: {path}
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: orders
"""


def test_argo_synced_folder_is_applied_inside_the_vcluster(tree):
    (tree.root / "components").mkdir()
    (tree.root / "components" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: order-settings\nstringData:\n  url: http://lapis\n")
    order = tree.root / "vcluster-apps" / "orders.yaml"
    order.write_text(order.read_text().replace(
        "          env:\n", "          env:\n            - name: URL\n              valueFrom:\n"
        "                secretKeyRef: {name: order-settings, key: url}\n"))
    assert "Secret orders/order-settings is neither" in tree(only=["refs"]).errors("refs")
    (tree.root / "vcluster-apps" / "components-app.yaml").write_text(APP.format(path="deploy/components"))
    r = tree(only=["refs", "schema"])
    assert r.results == {"refs": [], "schema": []}, r.output


def test_argo_application_path_must_exist(tree):
    (tree.root / "vcluster-apps" / "components-app.yaml").write_text(APP.format(path="deploy/nowhere"))
    assert "source path deploy/nowhere does not exist" in tree(only=["schema"]).errors("schema")


def test_podmonitor_in_any_namespace(tree):
    pm = ("apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata:\n  name: lapis\n  namespace: monitoring\n"
          "spec:\n  namespaceSelector: {any: true}\n  selector:\n    matchLabels: {app.kubernetes.io/name: lapis}\n"
          "  podMetricsEndpoints:\n    - port: {port}\n")
    (tree.root / "host" / "podmonitor.yaml").write_text(pm.replace("{port}", "admin"))
    assert tree(only=["refs"]).results["refs"] == []
    (tree.root / "host" / "podmonitor.yaml").write_text(pm.replace("{port}", "nope"))
    assert "port 'nope' is not a port of the selected pods" in tree(only=["refs"]).errors("refs")


def test_a_crash_fails_its_check_and_the_others_still_run(tree):
    p = tree.root / "check" / "placements.yaml"
    p.write_text(p.read_text().replace("  homelab-master: {cpu: \"4\", memory: 8Gi}", "  homelab-master: {cpu: four, memory: 8Gi}"))
    r = tree(only=["budget", "refs"])
    assert "ValueError: bad CPU quantity 'four'" in r.errors("budget")
    assert r.results["refs"] == []


def test_chart_values_exception(tree):
    p = tree.root / "check" / "placements.yaml"
    p.write_text(p.read_text() + "  - {chart: kube-system/alloy, allow: [privileged, runAsRoot], reason: reads /var/log of the node}\n")
    r = tree("hardening-chart-root.yaml", only=["hardening"])
    assert r.results["hardening"] == [], r.output
    assert "3 allowlisted exceptions used" in r.output


def test_entry_for_a_chart_not_in_the_tree_is_a_note(tree):
    p = tree.root / "check" / "placements.yaml"
    p.write_text(p.read_text().replace("charts:\n", "charts:\n  kube-system/elsewhere: {pods: []}\n"))
    r = tree(only=["budget"])
    assert r.results["budget"] == []
    assert "note: charts.kube-system/elsewhere in placements.yaml matches no chart release in this tree" in r.output
