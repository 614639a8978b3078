import { expect, test } from "@playwright/test";

// The demo's egress gateway (make seed): istio-system/istio-egressgateway, ports 80 and 443.
test("the egress gateways page lists the demo's gateway, also without WASM", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/gateways");
  const row = page.getByTestId("gateway-istio-system-istio-egressgateway");
  await expect(row).toContainText("istio-system/istio-egressgateway");
  await expect(row).toContainText("Service labelled istio=egressgateway");
  await expect(row).toContainText("80/http2, 443/https");
  await expect(row).toContainText("no host routed through it");
  await expect(page.getByText("helm install istio-egressgateway istio/gateway")).toBeVisible();
  await context.close();
});
