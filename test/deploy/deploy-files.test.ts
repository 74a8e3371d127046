import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { readConfig } from "../../src/config/env.ts";
import { checkTopology, parseTopology } from "../../src/config/topology.ts";
import { TRACING_VARIABLES } from "../../src/observe/tracing.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const KUBERNETES = join(ROOT, "deploy", "kubernetes");

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are checked field by field below
type K8sObject = any;

/**
 * The variables the proxy reads: every name its settings code spells (so the files cannot name a
 * setting that does not exist, whichever way src/config/ is organised), plus the OpenTelemetry
 * ones the tracing module reads.
 */
function proxySettings(): Set<string> {
  const names = new Set<string>(TRACING_VARIABLES);
  const dir = join(ROOT, "src", "config");
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".ts")) continue;
    const text = readFileSync(join(dir, file), "utf8");
    for (const m of text.matchAll(/"((?:AZURE_OPENAI|OPENAI)_[A-Z0-9_]+|LOG_LEVEL|NODE_ENV)"/g)) {
      names.add(m[1] as string);
    }
  }
  return names;
}

function loadObjects(): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const file of readdirSync(KUBERNETES)) {
    if (!file.endsWith(".yaml") || file === "kustomization.yaml") continue;
    for (const doc of parseAllDocuments(readFileSync(join(KUBERNETES, file), "utf8"))) {
      assert.deepEqual(doc.errors, [], `${file} is valid YAML`);
      objects.push({ ...doc.toJS(), file });
    }
  }
  return objects;
}

const objects = loadObjects();
const find = (kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  assert.ok(found, `${kind} ${name}`);
  return found;
};
const deployment = find("Deployment", "azure-oai-proxy");
const pod = deployment.spec.template;
const container = pod.spec.containers[0];
const secret = find("Secret", "azure-oai-proxy");
const configMap = find("ConfigMap", "azure-oai-proxy-config");

/** The container's environment as the proxy would see it, secrets from the example. */
function containerEnv(): Record<string, string> {
  const env: Record<string, string> = { NODE_ENV: "production" }; // the image sets it
  for (const e of container.env) env[e.name] = String(e.value);
  for (const source of container.envFrom ?? []) {
    assert.equal(source.secretRef?.name, secret.metadata.name);
    Object.assign(env, secret.stringData);
  }
  return env;
}

describe("Kubernetes manifests", () => {
  it("name only variables the proxy reads, or that its configuration file refers to", () => {
    const settings = proxySettings();
    const file = configMap.data["config.yaml"] as string;
    const referenced = new Set([...file.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]));
    for (const name of Object.keys(containerEnv())) {
      assert.ok(settings.has(name) || referenced.has(name), `${name} is not a setting`);
    }
  });

  it("give the proxy an environment it starts with, and a configuration file it accepts", async () => {
    const env = containerEnv();
    const config = readConfig(env);
    const topology = await parseTopology(
      configMap.data["config.yaml"],
      "config.yaml",
      config.azure,
      env,
    );
    assert.equal(topology.models.get("gpt-4o")?.targets.length, 2);
    checkTopology(topology, config); // what start-up checks across the two
    // The file the proxy is told to read is the config map, mounted where it looks.
    const mount = container.volumeMounts.find((m: K8sObject) => m.name === "config");
    const volume = pod.spec.volumes.find((v: K8sObject) => v.name === "config");
    assert.equal(volume.configMap.name, configMap.metadata.name);
    assert.equal(env.AZURE_OPENAI_PROXY_CONFIG, `${mount.mountPath}/config.yaml`);
  });

  it("probe readiness on /readyz and liveness on /healthz, on the port the proxy listens on", () => {
    const config = readConfig(containerEnv());
    const http = container.ports.find((p: K8sObject) => p.name === "http");
    assert.equal(http.containerPort, config.port);
    assert.equal(container.readinessProbe.httpGet.path, "/readyz");
    assert.equal(container.livenessProbe.httpGet.path, "/healthz");
    assert.equal(container.readinessProbe.httpGet.port, "http");
    assert.equal(container.livenessProbe.httpGet.port, "http");
    assert.equal(Number(pod.metadata.annotations["prometheus.io/port"]), config.port);
    assert.equal(pod.metadata.annotations["prometheus.io/path"], "/metrics");
  });

  it("let streams finish before the pod is killed", () => {
    const config = readConfig(containerEnv());
    const preStopSeconds = Number(container.lifecycle.preStop.exec.command[1]);
    assert.ok(
      pod.spec.terminationGracePeriodSeconds > config.timeouts.shutdownMs / 1000 + preStopSeconds,
    );
  });

  it("run as non-root on a read-only root filesystem, with resources set", () => {
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    assert.ok(pod.spec.securityContext.runAsUser > 0);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
    assert.ok(container.resources.limits.memory);
  });

  it("use Entra Workload ID through the service account", () => {
    assert.equal(pod.metadata.labels["azure.workload.identity/use"], "true");
    const account = find("ServiceAccount", pod.spec.serviceAccountName);
    assert.ok(account.metadata.annotations["azure.workload.identity/client-id"]);
  });

  it("select the proxy's pods from the Service, the budget and the autoscaler", () => {
    const labels = pod.metadata.labels;
    const selects = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    const service = find("Service", "azure-oai-proxy");
    assert.ok(selects(service.spec.selector));
    assert.equal(service.spec.ports[0].targetPort, "http");
    assert.ok(selects(deployment.spec.selector.matchLabels));
    assert.ok(selects(find("PodDisruptionBudget", "azure-oai-proxy").spec.selector.matchLabels));
    const hpa = find("HorizontalPodAutoscaler", "azure-oai-proxy");
    assert.deepEqual(
      [hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name],
      ["Deployment", deployment.metadata.name],
    );
    assert.ok(hpa.spec.minReplicas >= 2, "one pod may be disrupted at a time");
  });

  it("list in the kustomization only files that exist", () => {
    const kustomization = parseAllDocuments(
      readFileSync(join(KUBERNETES, "kustomization.yaml"), "utf8"),
    )[0]?.toJS();
    for (const file of kustomization.resources) {
      assert.ok(existsSync(join(KUBERNETES, file)), file);
    }
  });
});

describe("Compose with Caddy in front", () => {
  const compose = parseAllDocuments(readFileSync(join(ROOT, "compose.yaml"), "utf8"))[0]?.toJS();
  const proxy = compose.services["azure-oai-proxy"];
  const caddy = compose.services.caddy;

  it("names only variables the proxy reads", () => {
    const settings = proxySettings();
    for (const name of Object.keys(proxy.environment)) {
      assert.ok(settings.has(name), `${name} is not a setting`);
    }
  });

  it("has Caddy proxy to the proxy's service and port, with its Caddyfile mounted", () => {
    const mount = (caddy.volumes as string[]).find((v) => v.endsWith(":/etc/caddy/Caddyfile:ro"));
    assert.ok(mount);
    const caddyfile = readFileSync(join(ROOT, mount.split(":")[0] as string), "utf8");
    const upstream = /reverse_proxy\s+(\S+):(\d+)/.exec(caddyfile);
    assert.equal(upstream?.[1], "azure-oai-proxy");
    const port = readConfig({ AZURE_OPENAI_ENDPOINT: "https://x.openai.azure.com" }).port;
    assert.equal(Number(upstream?.[2]), port);
    assert.ok(proxy.ports.includes(`${port}:${port}`));
    assert.deepEqual(caddy.ports.slice(0, 2), ["80:80", "443:443"]);
    assert.match(caddyfile, /flush_interval -1/);
  });
});

describe("Grafana dashboard", () => {
  it("queries only the proxy's metrics", () => {
    const dashboard = JSON.parse(
      readFileSync(join(ROOT, "deploy", "grafana", "azure-oai-proxy.json"), "utf8"),
    );
    const exprs: string[] = [];
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) exprs.push(target.expr);
    }
    assert.ok(exprs.length >= 8);
    const metrics = readFileSync(join(ROOT, "src", "observe", "metrics.ts"), "utf8");
    for (const expr of exprs) {
      for (const [name] of expr.matchAll(/azure_oai_proxy_[a-z_]+/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, "");
        assert.ok(metrics.includes(`"${base}"`), `${name} in ${expr}`);
      }
    }
  });
});
