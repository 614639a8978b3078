import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "child_process";
import * as path from "path";
import { HomePage } from "./fixtures/home_page";
import { kubectl } from "./fixtures/kubectl";

// Service Mesh Manager's guide, on the real control plane, istiod, Prometheus and traffic
// source: smm-demo/notifications-v1 calls http://httpbin.org/get. Every verdict below comes
// from what istiod pushes to a sidecar of smm-demo.

const root = path.resolve(__dirname, "../..");
const prometheus = process.env.PROMETHEUS_URL ?? "http://127.0.0.1:19090";

/** The demo's state: mesh policy not set, the demo's entries, the demo's traffic. */
function seed() {
  execFileSync(path.join(root, "testenv/seed.sh"), { stdio: "ignore" });
}

/** Reloads `url` until `check` passes (traffic arrives with the next scrape and read). */
async function eventually(page: Page, url: string, check: () => Promise<void>, timeout = 60_000) {
  await expect(async () => {
    await page.goto(url);
    await check();
  }).toPass({ timeout, intervals: [2_000] });
}

/** Registered calls per second from notifications-v1 to httpbin.org now, asked of Prometheus
 *  itself: the pages add up the window, this tells new calls from old ones. */
async function registeredRate(): Promise<number> {
  const query = 'sum(rate(istio_requests_total{reporter="source",source_workload_namespace="smm-demo",' +
    'source_workload="notifications-v1",destination_service_name="httpbin.org"}[10s]))';
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`);
  const answer = await response.json();
  return Number(answer.data.result[0]?.value[1] ?? 0);
}

test.beforeEach(() => {
  seed();
  // The guide starts before httpbin.org is registered: anywhere (an entry exported to every
  // namespace registers it for smm-demo too).
  const entries = kubectl("get", "serviceentries", "-A", "-o",
    'jsonpath={range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.spec.hosts}{"\\n"}{end}');
  for (const line of entries.trim().split("\n").filter(Boolean)) {
    const [namespace, name, hosts] = line.split(" ");
    if ((JSON.parse(hosts) as string[]).includes("httpbin.org")) {
      kubectl("delete", "serviceentry", name, "-n", namespace);
    }
  }
});

test.afterAll(() => seed());

test("the guide: see what REGISTRY_ONLY would block, switch, allow httpbin.org, see its calls", async ({ page }) => {
  test.setTimeout(240_000);
  const home = new HomePage(page);

  // 1. Beside the switch, the preview lists the unregistered destinations that would be
  //    blocked, with their callers, and the confirmation says how many.
  // (Each caller's calls arrive at its own rate: every line is waited for.)
  await eventually(page, "/", async () => {
    const preview = page.getByTestId("preview-blocked");
    await expect(preview).toContainText("smm-demo/notifications-v1 -> httpbin.org:80 (HTTP)", { timeout: 1_000 });
    await expect(preview).toContainText("data-platform/etl -> example.com:80 (HTTP)", { timeout: 1_000 });
    await expect(preview).toContainText("frontend/web -> unknown host:? (TCP)", { timeout: 1_000 });
  }, 90_000);
  await expect(page.getByTestId("policy-confirm-label")).toContainText(/I understand: REGISTRY_ONLY would block \d+ destinations called by \d+ workloads/);
  await expect(page.getByTestId("telemetry-hint")).toContainText("TLS and TCP calls to unregistered hosts carry no host name");
  await home.waitForHydration();
  await home.switchPolicy();
  await expect(home.policyMode).toHaveText("REGISTRY_ONLY");

  // 2. After the switch, the unregistered calls are blocked (Istio's BlackHoleCluster).
  const blocked = page.getByTestId("dest-blocked-httpbin.org-80-HTTP");
  await eventually(page, "/traffic?verdict=blocked", async () => {
    await expect(blocked).toContainText("smm-demo/notifications-v1", { timeout: 1_000 });
    await expect(page.getByTestId("dest-blocked-example.com-80-HTTP")).toContainText("data-platform/etl", { timeout: 1_000 });
  });

  // 3. "Allow this host": the create form, pre-filled from the traffic. Until then no call
  //    from notifications-v1 reaches httpbin.org as a registered host.
  await expect.poll(registeredRate, { timeout: 30_000, intervals: [2_000] }).toBe(0);
  await blocked.getByRole("link", { name: "Allow this host" }).click();
  await expect(page).toHaveURL(/\/new\?host=httpbin\.org&port=80&protocol=HTTP&namespace=smm-demo/);
  await expect(page.getByTestId("form-hosts")).toHaveValue("httpbin.org");
  await expect(page.getByTestId("form-ports")).toHaveValue("80 http-80 HTTP");
  await expect(page.getByTestId("form-namespace")).toHaveValue("smm-demo");
  await expect(page.getByTestId("form-resolution")).toHaveValue("DNS");
  await expect(page.getByTestId("form-location")).toHaveValue("MESH_EXTERNAL");
  await home.waitForHydration();
  await page.getByTestId("create-submit").click();
  await expect(page.getByTestId("created")).toContainText("smm-demo/httpbin.org");
  expect(kubectl("get", "serviceentry", "httpbin.org", "-n", "smm-demo", "-o", "jsonpath={.spec.hosts}"))
    .toBe('["httpbin.org"]');

  // 4. Within 30 s notifications-v1's calls are registered (istiod pushed the entry to
  //    smm-demo's sidecars), and the entry's page shows them.
  await page.getByTestId("created").getByRole("link").click();
  await expect(page).toHaveURL(/\/namespaces\/smm-demo\/serviceentries\/httpbin\.org/);
  await expect.poll(registeredRate, { timeout: 30_000, intervals: [2_000] }).toBeGreaterThan(0);
  await eventually(page, page.url(), async () => {
    await expect(page.getByTestId("caller-smm-demo-notifications-v1")).toBeVisible({ timeout: 1_000 });
  }, 30_000);
  await expect(page.getByTestId("rate-chart")).toBeVisible();

  // 5. On the traffic page its calls show as registered, with the entry they belong to.
  await page.goto("/traffic?verdict=registered&q=httpbin.org");
  const registered = page.getByTestId("dest-registered-httpbin.org-80-HTTP");
  await expect(registered).toContainText("smm-demo/notifications-v1");
  await expect(registered.getByRole("link", { name: "smm-demo/httpbin.org" })).toBeVisible();
});

test("the traffic page filters, sorts and links without WASM", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await eventually(page, "/traffic", async () => {
    await expect(page.getByTestId("dest-passthrough-example.com-80-HTTP")).toBeVisible({ timeout: 1_000 });
  });
  await expect(page.getByTestId("traffic-source")).toContainText("Traffic from Prometheus at http://127.0.0.1:19090");
  // A plain GET form: search and verdict are applied by the server.
  await page.getByTestId("traffic-search").fill("data-platform/etl");
  await page.getByTestId("traffic-verdict").selectOption("passthrough");
  await page.getByTestId("traffic-apply").click();
  await expect(page).toHaveURL(/q=data-platform%2Fetl&verdict=passthrough/);
  const rows = page.getByTestId("destinations").locator("tbody tr");
  await expect(page.getByTestId("dest-passthrough-example.com-80-HTTP")).toBeVisible();
  // Every row shown is a passthrough call of data-platform/etl, and the totals say how many.
  const shown = await rows.count();
  for (let i = 0; i < shown; i++) {
    await expect(rows.nth(i)).toContainText("passthrough");
    await expect(rows.nth(i)).toContainText("data-platform/etl");
  }
  await expect(page.getByTestId("traffic-totals")).toContainText(new RegExp(`^${shown} of \\d+ destinations in the last hour$`));
  // The window is in the URL; the 24-hour link keeps the search.
  await page.getByTestId("window-24h").click();
  await expect(page).toHaveURL(/q=data-platform%2Fetl&verdict=passthrough&sort=calls&window=24h/);
  await expect(page.getByTestId("traffic-totals")).toContainText("in the last 24 hours");
  await context.close();
});
