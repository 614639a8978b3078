import { expect, test } from "@playwright/test";
import * as fs from "fs";
import * as path from "path";

const shared = `http://127.0.0.1:${process.env.E2E_SHARED_PORT ?? 3101}`;
const token = (user: string) =>
  fs.readFileSync(path.resolve(__dirname, `../../target/testenv/tokens/${user}`), "utf8").trim();

test("shared mode: the namespace-limited user signs in and sees the switch disabled with the reason", async ({ page }) => {
  await page.goto(`${shared}/`);
  await expect(page.getByTestId("sign-in-link")).toBeVisible();

  await page.goto(`${shared}/login`);
  await page.getByTestId("login-token").fill(token("dev"));
  await page.getByTestId("login-submit").click();
  await page.waitForURL(`${shared}/`);
  await expect(page.getByTestId("session-user")).toHaveText("dev");
  // dev may not read where the policy lives: it is not shown, and not switchable.
  await expect(page.getByTestId("policy-mode")).toHaveText("unknown");
  await expect(page.getByTestId("policy-switch-disabled")).toContainText("forbidden");
  await expect(page.getByTestId("policy-switch")).toHaveCount(0);
  // Only what dev's RBAC lets it list.
  await expect(page.getByTestId("ns-row-team-dev")).toBeVisible();
  await expect(page.getByTestId("ns-row-smm-demo")).toHaveCount(0);

  await page.goto(`${shared}/namespaces/team-dev`);
  await expect(page.getByTestId("new-link")).toBeVisible();

  await page.getByTestId("sign-out").click();
  await page.waitForURL(`${shared}/login`);
  await page.goto(`${shared}/`);
  await expect(page.getByTestId("sign-in-link")).toBeVisible();
});

test("shared mode: the admin may switch the policy", async ({ page }) => {
  await page.goto(`${shared}/login`);
  await page.getByTestId("login-token").fill(token("admin"));
  await page.getByTestId("login-submit").click();
  await page.waitForURL(`${shared}/`);
  await expect(page.getByTestId("session-user")).toHaveText("admin");
  await expect(page.getByTestId("policy-switch")).toBeVisible();
  await expect(page.getByTestId("policy-switch-disabled")).toHaveCount(0);
});
