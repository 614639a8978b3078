import { expect, test } from "@playwright/test";
import { kubectl, kubectlApply, randomName } from "./fixtures/kubectl";

// The all-services list a page at a time: the server searches and pages, the URL keeps both.
test("paged list: next and previous, a search over pages, a deep link reloaded, a live insert", async ({ page }) => {
  const ns = randomName("e2e-paging");
  const tag = ns.slice(-8);
  kubectl("create", "namespace", ns);
  const entry = (i: string) => `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: "svc-${i}", namespace: "${ns}"}
spec:
  hosts: ["svc-${i}.${tag}.example"]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
`;
  kubectlApply(Array.from({ length: 120 }, (_, i) => entry(String(i).padStart(3, "0"))).join(""));
  try {
    // The search spans pages: 120 of them match, 50 a page.
    await page.goto(`/services?q=${tag}`);
    await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
    const status = page.getByTestId("pager-status");
    await expect(status).toContainText("1–50 of 120 matching external services");
    await expect(page.getByTestId("pager-position")).toHaveText("page 1 of 3");
    await expect(page.getByTestId(`se-row-${ns}-svc-000`)).toBeVisible();
    await expect(page.getByTestId(`se-row-${ns}-svc-050`)).toHaveCount(0);

    await page.getByTestId("pager-next").click();
    await expect(status).toContainText("51–100 of 120");
    await expect(page).toHaveURL(/page=2/);
    await expect(page.getByTestId(`se-row-${ns}-svc-050`)).toBeVisible();
    await page.getByTestId("pager-prev").click();
    await expect(status).toContainText("1–50 of 120");
    await page.goBack();
    await expect(status).toContainText("51–100 of 120");

    // A deep link to page 3, reloaded: the server renders that page.
    await page.goto(`/services?q=${tag}&page=3`);
    await page.reload();
    await expect(status).toContainText("101–120 of 120");
    await expect(page.getByTestId("pager-next")).toHaveCount(0);
    await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);

    // Typing narrows the search at once, on the server: one host of the 120.
    await page.getByTestId("se-search").fill(`svc-007.${tag}`);
    await expect(status).toContainText("1–1 of 1 matching");
    await expect(page.getByTestId(`se-row-${ns}-svc-007`)).toBeVisible();

    // A live insert shows up on the page on screen, without a reload.
    await page.goto(`/services?q=${tag}&page=3`);
    await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
    await expect(status).toContainText("101–120 of 120");
    kubectlApply(entry("zzz"));
    await expect(page.getByTestId(`se-row-${ns}-svc-zzz`)).toBeVisible({ timeout: 15_000 });
    await expect(status).toContainText("101–121 of 121");
  } finally {
    // The test control plane runs no namespace controller: delete the entries themselves.
    kubectl("delete", "serviceentries", "--all", "-n", ns);
    kubectl("delete", "namespace", ns, "--wait=false");
  }
});

test("paged list without JavaScript: the search form and the page links are plain GETs", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/services");
  await page.getByTestId("se-search").fill("api.stripe");
  await page.getByTestId("se-search-submit").click();
  await expect(page).toHaveURL(/q=api.stripe/);
  await expect(page.getByTestId("se-row-payments-stripe-api")).toBeVisible();
  await expect(page.getByTestId("se-row-smm-demo-httpbin.org")).toHaveCount(0);
  await context.close();
});
