import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "child_process";
import * as path from "path";
import { kubectl } from "./fixtures/kubectl";

// Rolling out REGISTRY_ONLY namespace by namespace, on the real control plane, istiod,
// Prometheus and the demo's traffic (frontend/web and payments/checkout call hosts nobody
// registered).

const root = path.resolve(__dirname, "../..");

test.beforeEach(() => {
  execFileSync(path.join(root, "testenv/seed.sh"), { stdio: "ignore" });
});

/** The Sidecars of `namespace`, by name (what an operator sees with kubectl). */
function sidecars(namespace: string): string {
  return kubectl("get", "sidecars", "-n", namespace, "-o", "name").trim();
}

function sidecarMode(namespace: string): string {
  return kubectl("get", "sidecar", "default", "-n", namespace, "-o",
    "jsonpath={.spec.outboundTrafficPolicy.mode}");
}

/** Links load a whole page: its forms act in place once the page's island is hydrated. */
async function hydrated(page: Page) {
  await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
}

async function confirmAndSwitch(page: Page) {
  await page.getByTestId("namespace-confirm").check();
  await page.getByTestId("namespace-switch").click();
}

test("the rollout view; restrict a namespace from it with the preview; lift it; undo", async ({ page }) => {
  test.setTimeout(120_000);
  // The demo's calls reach Prometheus with its scrapes: wait until they are counted.
  await expect(async () => {
    await page.goto("/rollout");
    await expect(page.getByTestId("readiness-frontend")).toHaveText("not ready", { timeout: 1_000 });
    await expect(page.getByTestId("readiness-smm-demo")).toHaveText("not ready", { timeout: 1_000 });
  }).toPass({ timeout: 60_000, intervals: [2_000] });
  await expect(page.getByTestId("rollout-frontend")).toContainText("frontend/web -> ");
  await expect(page.getByTestId("rollout-summary")).toContainText("not ready in the last hour");
  await hydrated(page);

  await page.getByTestId("restrict-frontend").click();
  await expect(page).toHaveURL(/\/namespaces\/frontend\?preview=restricted$/);
  await expect(page.getByTestId("namespace-mode")).toContainText("ALLOW_ANY");
  await expect(page.getByTestId("namespace-preview-summary")).toHaveText(
    "REGISTRY_ONLY frontend: creates Sidecar frontend/default; it would block 1 destination called in the last hour");
  await expect(page.getByTestId("namespace-preview-blocked")).toContainText("frontend/web -> ");
  await expect(page.getByTestId("namespace-preview-diff")).toContainText("+    mode: REGISTRY_ONLY");
  expect(sidecars("frontend"), "the preview writes nothing").toBe("");

  // Not without the confirmation.
  await page.getByTestId("namespace-switch").click();
  expect(sidecars("frontend")).toBe("");
  await hydrated(page);
  await confirmAndSwitch(page);
  await expect(page.getByTestId("namespace-switched")).toHaveText(
    /frontend is now REGISTRY_ONLY \(namespace Sidecar default\)\./);
  await expect(page.getByTestId("namespace-mode")).toHaveText("REGISTRY_ONLY — namespace Sidecar default");
  expect(sidecarMode("frontend")).toBe("REGISTRY_ONLY");

  // The rollout view has it restricted; its page offers to lift it, putting the Sidecar back.
  await page.getByRole("link", { name: "Rollout" }).click();
  await expect(page.getByTestId("readiness-frontend")).toHaveText("restricted");
  await expect(page.getByTestId("restrict-frontend")).toHaveCount(0);
  await page.getByTestId("rollout-frontend").getByRole("link", { name: "frontend" }).click();
  await expect(page.getByTestId("namespace-recorded")).toBeVisible();
  await page.getByTestId("namespace-preview-link").click();
  await expect(page.getByTestId("namespace-preview-summary")).toHaveText(
    "ALLOW_ANY frontend: deletes Sidecar frontend/default, which mesh-egress created");
  await hydrated(page);
  await confirmAndSwitch(page);
  await expect(page.getByTestId("namespace-mode")).toContainText("ALLOW_ANY");
  expect(sidecars("frontend")).toBe("");

  // Undo restricts it again, and Undo once more opens it.
  await page.getByTestId("namespace-undo").click();
  await expect(page.getByTestId("namespace-mode")).toHaveText("REGISTRY_ONLY — namespace Sidecar default");
  expect(sidecarMode("frontend")).toBe("REGISTRY_ONLY");
  await page.getByTestId("namespace-undo").click();
  await expect(page.getByTestId("namespace-mode")).toContainText("ALLOW_ANY");
  expect(sidecars("frontend")).toBe("");
});

test("restricting a namespace without WASM: the preview and the form are plain requests", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/namespaces/payments?preview=restricted");
  await expect(page.getByTestId("namespace-preview-summary")).toContainText(
    "REGISTRY_ONLY payments: creates Sidecar payments/default");
  await confirmAndSwitch(page);
  await page.waitForURL(/\/namespaces\/payments/);
  await expect(page.getByTestId("namespace-mode")).toHaveText("REGISTRY_ONLY — namespace Sidecar default");
  expect(sidecarMode("payments")).toBe("REGISTRY_ONLY");

  await page.goto("/namespaces/payments?preview=allowed");
  await expect(page.getByTestId("namespace-preview-summary")).toHaveText(
    "ALLOW_ANY payments: deletes Sidecar payments/default, which mesh-egress created");
  await confirmAndSwitch(page);
  await page.waitForURL(/\/namespaces\/payments/);
  await expect(page.getByTestId("namespace-mode")).toContainText("ALLOW_ANY");
  expect(sidecars("payments")).toBe("");
  await context.close();
});

test("a draft entry changes a verdict before it is saved", async ({ page }) => {
  await expect(async () => {
    await page.goto("/rollout?namespace=data-platform");
    await expect(page.getByTestId("readiness-data-platform")).toHaveText("not ready", { timeout: 1_000 });
  }).toPass({ timeout: 60_000, intervals: [2_000] });
  // Its calls that pass through today (the window may hold others, blocked while restricted).
  const etl = page.getByTestId("call-data-platform-etl-example.com-80-passthrough");
  await expect(etl.getByTestId("pending-verdict")).toHaveText("blocked: not registered");
  await hydrated(page);

  await page.getByText("With draft entries (not saved)").click();
  await page.getByTestId("drafts").fill(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: example-draft
  namespace: data-platform
spec:
  hosts: [example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`);
  await page.getByTestId("rollout-show").click();
  await expect(page).toHaveURL(/drafts=/);
  await expect(page.getByTestId("drafts-counted")).toHaveText(
    "Counting 1 draft entry as if registered (nothing is saved): data-platform/example-draft");
  await expect(etl.getByTestId("pending-verdict")).toHaveText("allowed (data-platform/example-draft)");
  await expect(page.getByTestId("readiness-data-platform")).toHaveText("ready");
  expect(kubectl("get", "serviceentries", "-n", "data-platform", "-o", "name")).not.toContain("example-draft");

  // A link keeps the drafts: reloaded, the verdicts are the same.
  await page.reload();
  await expect(etl.getByTestId("pending-verdict")).toHaveText("allowed (data-platform/example-draft)");
});

test("the reachability map: drawn on the server, filtered by namespace and host", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  // data-platform/etl calls example.com, which nobody registered: it passes today.
  await expect(async () => {
    await page.goto("/map?namespace=data-platform");
    await expect(page.getByTestId("edge-data-platform-example.com"))
      .toHaveAttribute("data-kind", "would-be-blocked", { timeout: 1_000 });
  }).toPass({ timeout: 60_000, intervals: [2_000] });
  await expect(page.getByTestId("map")).toBeVisible();
  await expect(page.getByTestId("map-totals")).toContainText("1 namespace,");
  await expect(page.getByTestId("map-namespace-smm-demo")).toHaveCount(0);

  // By host: every namespace the demo's httpbin.org entry is visible to, and the one that calls it.
  await page.getByTestId("map-namespace").fill("");
  await page.getByTestId("map-host").fill("httpbin.org");
  await page.getByTestId("map-show").click();
  await expect(page).toHaveURL(/host=httpbin.org/);
  await expect(page.getByTestId("edge-smm-demo-httpbin.org")).toHaveAttribute("data-kind", "called");
  await expect(page.getByTestId("edge-payments-httpbin.org")).toHaveAttribute("data-kind", "allowed");

  // A name narrows the map to it.
  await page.getByTestId("map-namespace-smm-demo").click();
  await expect(page).toHaveURL(/\/map\?namespace=smm-demo$/);
  await expect(page.getByTestId("map-totals")).toContainText("1 namespace,");
  await expect(page.getByTestId("map-host-httpbin.org")).toBeVisible();
  await context.close();
});
