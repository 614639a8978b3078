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
