import { expect, test, Page } from "@playwright/test";
import { kubectl } from "./fixtures/kubectl";

// The demo's httpbin.org entry (smm-demo) and egress gateway (istio-system/istio-egressgateway).
const entryPage = "/namespaces/smm-demo/serviceentries/httpbin.org";
const route = "egress-smm-demo-httpbin-org";
const kinds = "gateways.networking.istio.io,destinationrules.networking.istio.io,virtualservices.networking.istio.io";

/** The routing objects mesh-egress wrote for the demo entry, as kubectl names them. */
function written(): string[] {
  const out = kubectl("get", kinds, "-A", "-l", `mesh-egress.io/egress-route in (${route},${route}-1,${route}-2)`, "-o", "name");
  return out.split("\n").filter((l) => l.length > 0).sort();
}

function cleanUp() {
  kubectl("delete", kinds, "-A", "-l", "app.kubernetes.io/managed-by=mesh-egress,mesh-egress.io/egress-route", "--ignore-not-found");
}

/** Links and GET forms load a whole page: with WASM its forms act in place once it is hydrated. */
async function hydrated(page: Page, wasm: boolean) {
  if (wasm) await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
}

async function routeThroughTheDemoGateway(page: Page, wasm: boolean) {
  await page.goto(entryPage);
  await hydrated(page, wasm);
  const card = page.getByTestId("entry-routing");
  await expect(card.getByTestId("entry-direct")).toContainText("Leaves the mesh straight from each calling sidecar");
  await card.getByTestId("route-gateway").selectOption("istio-system/istio-egressgateway");
  await card.getByTestId("route-port").selectOption("80");
  await card.getByTestId("route-preview-button").click();
  const preview = card.getByTestId("route-preview");
  await expect(preview).toContainText(
    "Routing port 80 via gateway istio-system/istio-egressgateway writes Gateway istio-system/egress-smm-demo-httpbin-org, DestinationRule istio-system/egress-smm-demo-httpbin-org, VirtualService smm-demo/egress-smm-demo-httpbin-org-1, VirtualService smm-demo/egress-smm-demo-httpbin-org-2",
  );
  await expect(card.getByTestId("route-preview-yaml")).toContainText("subset: egress-smm-demo-httpbin-org");
  expect(written()).toEqual([]); // a preview writes nothing
  await hydrated(page, wasm);
  await card.getByTestId("route-button").click();
  await expect(card.getByTestId("entry-via")).toHaveText("via gateway istio-system/istio-egressgateway:80");
}

test.afterEach(cleanUp);

test("route the demo's httpbin.org through the demo's egress gateway, see it, and stop routing", async ({ page }) => {
  test.setTimeout(60_000);
  cleanUp();
  await routeThroughTheDemoGateway(page, true);
  await expect(page.getByTestId("route-done")).toContainText("Routed port 80 via gateway istio-system/istio-egressgateway");
  expect(written()).toEqual([
    `destinationrule.networking.istio.io/${route}`,
    `gateway.networking.istio.io/${route}`,
    `virtualservice.networking.istio.io/${route}-1`,
    `virtualservice.networking.istio.io/${route}-2`,
  ]);
  const vs = JSON.parse(kubectl("get", "virtualservice", `${route}-1`, "-n", "smm-demo", "-o", "json"));
  expect(vs.spec.http[0].route[0].destination.host).toBe("istio-egressgateway.istio-system.svc.cluster.local");
  await expect(page.getByTestId("route-objects")).toContainText(`VirtualService smm-demo/${route}-2`);

  // The lists and the gateways page say so too.
  await page.goto("/namespaces/smm-demo");
  await expect(page.getByTestId("se-row-smm-demo-httpbin.org")).toContainText("via gateway istio-system/istio-egressgateway:80");
  await page.goto("/gateways");
  await expect(page.getByTestId("gateway-istio-system-istio-egressgateway")).toContainText("httpbin.org, www.httpbin.org");
  // The demo's notifications-v1 calls httpbin.org: now through the gateway (the traffic
  // source routes it by what istiod pushes, and plays the gateway's own call), shown once.
  await expect(async () => {
    await page.goto("/traffic?q=httpbin.org");
    await expect(page.getByTestId("destinations").getByTestId("destination-via").first()).toHaveText(
      "via gateway istio-system/istio-egressgateway",
      { timeout: 1000 },
    );
  }).toPass({ timeout: 25_000 });

  await page.goto(entryPage);
  await hydrated(page, true);
  await page.getByTestId("stop-routing").click();
  await expect(page.getByTestId("route-stopped")).toHaveText(
    `Stopped routing through the gateway: removed Gateway istio-system/${route}, DestinationRule istio-system/${route}, VirtualService smm-demo/${route}-1, VirtualService smm-demo/${route}-2.`,
  );
  await expect(page.getByTestId("entry-direct")).toBeVisible();
  expect(written()).toEqual([]);
});

test("route and stop routing without JavaScript", async ({ browser }) => {
  cleanUp();
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await routeThroughTheDemoGateway(page, false);
  expect(written()).toHaveLength(4);
  await page.getByTestId("stop-routing").click();
  await expect(page.getByTestId("entry-direct")).toBeVisible();
  expect(written()).toEqual([]);
  await context.close();
});
