import { expect, test } from "@playwright/test";
import * as path from "path";
import { HomePage } from "./fixtures/home_page";

test("shows the mesh-wide policy read from the cluster", async ({ page }) => {
  const home = new HomePage(page);
  await home.goto();
  await expect(home.policyMode).toHaveText("not set (Istio's default: ALLOW_ANY)");
  await expect(home.policySource).toContainText("ConfigMap istio-system/istio");
});

test("lists smm-demo with its one external service", async ({ page }) => {
  const home = new HomePage(page);
  await home.goto();
  const row = home.row("smm-demo");
  await expect(row).toBeVisible();
  await expect(row.locator("td").nth(1)).toHaveText("1");
  await expect(row.locator("td").nth(2)).toHaveText("enabled");
  await expect(home.row("payments").locator("td").nth(1)).toHaveText("2");
  // NB: tests write only under target/; docs/screenshot.png is refreshed from this by hand.
  await page.screenshot({ path: path.resolve(__dirname, "../../target/e2e/overview.png"), fullPage: true });
});

test("hydrates: the filter narrows the table as you type", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  const home = new HomePage(page);
  const response = await page.goto("/");
  // The page's CSP allows its own scripts by nonce, and hydration still works under it.
  expect(response?.headers()["content-security-policy"]).toContain("'nonce-");
  await home.waitForHydration();
  await expect(home.row("payments")).toBeVisible();
  await home.filter.fill("smm");
  // No form submission happens: only the WASM-driven filter can hide the other rows.
  await expect(home.row("payments")).toHaveCount(0);
  await expect(home.row("smm-demo")).toBeVisible();
  expect(page.url()).not.toContain("q=");
  await home.filter.fill("no-such-namespace");
  await expect(home.noMatch).toBeVisible();
  expect(errors, "no console errors (CSP violations, 404s)").toEqual([]);
});

test("without JavaScript the filter form still works", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const home = new HomePage(page);
  await home.goto("?q=pay");
  await expect(home.row("payments")).toBeVisible();
  await expect(home.row("smm-demo")).toHaveCount(0);
  await expect(home.policyMode).toContainText("not set");
  await context.close();
});
