import { chromium, expect, test } from "@playwright/test";
import * as fs from "fs";
import * as path from "path";
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

test("sign-out ends the session on the server: a cookie copied before it is refused after", async ({ page, playwright }) => {
  const shared = `http://127.0.0.1:${process.env.E2E_SHARED_PORT ?? 3101}`;
  const adminToken = fs.readFileSync(path.resolve(__dirname, "../../target/testenv/tokens/admin"), "utf8").trim();
  await page.goto(`${shared}/login`);
  await page.getByTestId("login-token").fill(adminToken);
  await page.getByTestId("login-submit").click();
  await page.waitForURL(`${shared}/`);
  await expect(page.getByTestId("session-user")).toHaveText("admin");
  // The attacker's copy of the cookie (from a shared machine, a proxy log, a backup).
  const cookies = await page.context().cookies(shared);
  const stolen = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const replay = await playwright.request.newContext({ extraHTTPHeaders: { cookie: stolen, accept: "application/json" } });
  expect((await replay.post(`${shared}/api/overview`)).status()).toBe(200);

  await page.getByTestId("sign-out").click();
  await page.waitForURL(`${shared}/login`);
  // The copy no longer works: the session is revoked in the cluster, not only in this browser.
  await expect.poll(async () => (await replay.post(`${shared}/api/overview`)).status()).toBe(401);
  const before = meshConfig();
  const write = await replay.post(`${shared}/api/set_outbound_policy`, { form: { mode: "REGISTRY_ONLY" } });
  expect(write.status()).toBe(401);
  expect(meshConfig()).toBe(before);
  await replay.dispose();
});
