import { expect, test } from "@playwright/test";
import { HomePage } from "./fixtures/home_page";
import { kubectl, kubectlApply, randomName } from "./fixtures/kubectl";

/** What the real istiod uses (REGISTRY_ONLY is protobuf's zero value: `{}`). */
async function istiodMode(): Promise<string> {
  const response = await fetch("http://127.0.0.1:15080/debug/mesh");
  const mesh = await response.json();
  return mesh.outboundTrafficPolicy?.mode ?? "REGISTRY_ONLY";
}

function meshConfigMode(): string {
  const mesh = kubectl("get", "configmap", "istio", "-n", "istio-system", "-o", "jsonpath={.data.mesh}");
  const match = mesh.match(/outboundTrafficPolicy:\s*\n\s+mode:\s*(\S+)/);
  return match ? match[1] : "not set";
}

test("switch to REGISTRY_ONLY with the confirmation, and back", async ({ page }) => {
  const home = new HomePage(page);
  await home.goto();
  await home.waitForHydration();
  await expect(home.policyMode).toHaveText("not set (Istio's default: ALLOW_ANY)");
  // The impact names what pods keep: the registered hosts, in the namespaces that hold them,
  // counted here the way an operator would with kubectl.
  const entries = kubectl("get", "serviceentries", "-A", "-o",
    'jsonpath={range .items[*]}{.metadata.namespace}{" "}{.spec.hosts}{"\\n"}{end}').trim().split("\n");
  const namespaces = new Set(entries.map((line) => line.split(" ")[0]));
  const hosts = new Set(entries.flatMap((line) => JSON.parse(line.slice(line.indexOf(" ") + 1)) as string[]));
  await expect(home.impact).toContainText(
    `Pods will reach only the ${hosts.size} hosts registered as ServiceEntries in ${namespaces.size} namespaces`);

  // The browser refuses to submit until the operator confirms.
  await home.switchButton.click();
  await expect(home.policyMode).toHaveText("not set (Istio's default: ALLOW_ANY)");
  expect(meshConfigMode()).toBe("not set");

  await home.switchPolicy();
  await expect(home.policyMode).toHaveText("REGISTRY_ONLY");
  expect(meshConfigMode()).toBe("REGISTRY_ONLY");
  // istiod, which programs every sidecar, takes it within 2 seconds.
  await expect.poll(istiodMode, { timeout: 2_000, intervals: [50] }).toBe("REGISTRY_ONLY");
  await expect(home.effective("smm-demo")).toContainText("REGISTRY_ONLY");

  await page.reload();
  await expect(home.policyMode).toHaveText("REGISTRY_ONLY");
  await expect(page.getByTestId("istiod-view")).toHaveText("istiod: REGISTRY_ONLY, in effect");

  await home.waitForHydration();
  await expect(home.impact).toContainText("any external host");
  await home.switchPolicy();
  await expect(home.policyMode).toHaveText("ALLOW_ANY");
  expect(meshConfigMode()).toBe("ALLOW_ANY");
  await expect.poll(istiodMode, { timeout: 2_000, intervals: [50] }).toBe("ALLOW_ANY");
});

test("the switch works before WASM: a plain form post", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const home = new HomePage(page);
  await home.goto();
  const before = (await home.policyMode.textContent()) ?? "";
  const expected = before.startsWith("REGISTRY_ONLY") ? "ALLOW_ANY" : "REGISTRY_ONLY";
  await home.switchPolicy();
  await page.waitForURL((url) => url.pathname === "/");
  await expect(home.policyMode).toHaveText(expected);
  expect(meshConfigMode()).toBe(expected);
  await expect.poll(istiodMode, { timeout: 2_000, intervals: [50] }).toBe(expected);
  await context.close();
});

test("a namespace with an overriding Sidecar shows its effective mode and why", async ({ page }) => {
  const ns = randomName("e2e-sidecar");
  kubectl("create", "namespace", ns);
  kubectlApply(`
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: ${ns}
spec:
  outboundTrafficPolicy: {}
`);
  const home = new HomePage(page);
  await home.goto(`?q=${ns}`);
  await expect(home.effective(ns)).toContainText("REGISTRY_ONLY");
  await expect(home.effective(ns)).toContainText("namespace Sidecar default");
  await expect(home.effective(ns)).toContainText("without a mode means REGISTRY_ONLY");
});
