import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";

const pages = [
  ["overview", "/"],
  ["all external services", "/services"],
  ["a namespace", "/namespaces/smm-demo"],
  ["an entry", "/namespaces/smm-demo/serviceentries/httpbin.org"],
  ["create", "/new?namespace=smm-demo"],
  ["edit", "/namespaces/smm-demo/serviceentries/httpbin.org/edit"],
  ["outgoing calls", "/traffic"],
  ["the rollout", "/rollout"],
  ["the reachability map", "/map"],
  ["egress gateways", "/gateways"],
  ["a namespace's restriction preview", "/namespaces/frontend?preview=restricted"],
  ["an entry's route preview", "/namespaces/smm-demo/serviceentries/httpbin.org?via=istio-system/istio-egressgateway&port=80"],
];

for (const [what, url] of pages) {
  test(`axe finds no serious or critical violation on ${what}`, async ({ page }) => {
    await page.goto(url);
    await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    expect(serious, serious.join("\n")).toEqual([]);
  });
}

test("form fields are found by their names; a refused form moves the focus to its first error", async ({ page }) => {
  await page.goto("/new?namespace=smm-demo");
  await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
  await expect(page.getByLabel("Namespace", { exact: true })).toHaveValue("smm-demo");
  await page.getByLabel("Name", { exact: true }).fill("a11y-check");
  await page.getByLabel("Hosts", { exact: true }).fill("a11y.example.com");
  await page.getByLabel("Ports", { exact: true }).fill("eighty http HTTP");
  await page.getByTestId("create-submit").click();
  await expect(page.getByTestId("error")).toBeVisible();
  await expect(page.getByLabel("Ports", { exact: true })).toBeFocused();
  await expect(page.getByLabel("Ports", { exact: true })).toHaveAttribute("aria-invalid", "true");
  // The field's errors are a live region the screen reader announces.
  await expect(page.getByTestId("form-errors-ports")).toHaveAttribute("aria-live", "polite");
  await expect(page.getByTestId("form-errors-ports")).toContainText("NUMBER NAME PROTOCOL");
});
