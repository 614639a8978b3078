import { chromium, expect, test } from "@playwright/test";
import { kubectl } from "./fixtures/kubectl";

const port = Number(process.env.E2E_PORT ?? 3100);

function meshConfig(): string {
  return kubectl("get", "configmap", "istio", "-n", "istio-system", "-o", "jsonpath={.data.mesh}");
}

test("DNS rebinding: a page under another name that resolves to 127.0.0.1 gets 421 and changes nothing", async () => {
  // The attacker's name resolves to the dashboard's loopback address, as after a rebind.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--host-resolver-rules=MAP rebind.example 127.0.0.1",
    ],
  });
  const page = await browser.newPage();
  const before = meshConfig();
  const response = await page.goto(`http://rebind.example:${port}/`);
  expect(response?.status()).toBe(421);
  await expect(page.locator("body")).toContainText("421 Misdirected Request");
  // Same-origin from the page's point of view, so only the Host check stands in the way.
  const write = await page.evaluate(async () => {
    const answer = await fetch("/api/set_outbound_policy", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "mode=REGISTRY_ONLY",
    });
    return answer.status;
  });
  expect(write).toBe(421);
  expect(meshConfig()).toBe(before);
  await browser.close();
});
