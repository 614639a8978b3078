import { expect, test } from "@playwright/test";
import * as path from "path";
import { execFileSync } from "child_process";
import { CreatePage, NamespacePage } from "./fixtures/namespace_page";
import { httpbinEntry, kubectl, kubectlApply, randomName } from "./fixtures/kubectl";

const httpbin = (ns: string) => httpbinEntry(ns, "  labels: {app: httpbin}", "  annotations: {owner: platform-team}");

function getEntry(ns: string, name: string): { status: number; spec?: unknown; labels?: unknown; annotations?: unknown } {
  try {
    const object = JSON.parse(kubectl("get", "serviceentry", name, "-n", ns, "-o", "json"));
    return { status: 0, spec: object.spec, labels: object.metadata.labels, annotations: object.metadata.annotations };
  } catch (error) {
    return { status: 1 };
  }
}

test("the seed flow: kubectl apply appears live; delete in the UI; undo restores it", async ({ page }) => {
  const ns = randomName("e2e-seed");
  kubectl("create", "namespace", ns);
  const nsPage = new NamespacePage(page);
  await nsPage.goto(ns);
  await expect(page.getByTestId("no-entries")).toBeVisible();

  kubectlApply(httpbin(ns));
  const before = getEntry(ns, "httpbin.org");
  // Pushed to the open page: no reload.
  await expect(nsPage.row(ns, "httpbin.org")).toBeVisible({ timeout: 2_000 });
  await expect(nsPage.row(ns, "httpbin.org")).toContainText("httpbin.org, www.httpbin.org");

  // The server-rendered HTML has it too.
  const html = await (await page.request.get(`/namespaces/${ns}`)).text();
  expect(html).toContain("www.httpbin.org");

  await nsPage.delete("httpbin.org");
  await expect(nsPage.deletedNotice).toContainText("Pods no longer reach httpbin.org, www.httpbin.org");
  expect(getEntry(ns, "httpbin.org").status).not.toBe(0);
  await expect(nsPage.row(ns, "httpbin.org")).toHaveCount(0);

  await nsPage.undo.click();
  await expect(nsPage.row(ns, "httpbin.org")).toBeVisible();
  const after = getEntry(ns, "httpbin.org");
  expect(after.status).toBe(0);
  expect(after.spec).toEqual(before.spec);
  expect(after.labels).toEqual(before.labels);
  expect(after.annotations).toEqual(before.annotations);
});

test("create from the form, with field errors as you type", async ({ page }) => {
  const ns = randomName("e2e-form");
  kubectl("create", "namespace", ns);
  const create = new CreatePage(page);
  await create.goto(ns);
  await create.field("name").fill("stripe-api");
  await create.field("hosts").fill("bad..host");
  await expect(create.errors("hosts")).toContainText("invalid");
  await create.field("hosts").fill("api.stripe.com");
  await expect(create.errors("hosts")).toBeEmpty();
  await create.field("ports").fill("443 tls TLS");
  await create.submitForm();
  await expect(page.getByTestId("created")).toContainText(`${ns}/stripe-api`);
  const entry = getEntry(ns, "stripe-api");
  expect(entry.status).toBe(0);
  expect(entry.spec).toEqual({
    hosts: ["api.stripe.com"],
    ports: [{ number: 443, name: "tls", protocol: "TLS" }],
    resolution: "DNS",
    location: "MESH_EXTERNAL",
  });
});

test("an invalid entry is refused with field errors and nothing is written", async ({ page }) => {
  const ns = randomName("e2e-invalid");
  kubectl("create", "namespace", ns);
  const create = new CreatePage(page);
  await create.goto(ns);
  await create.submitYaml(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: broken}
spec:
  hosts: [bad..host]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`);
  await expect(page.getByTestId("error")).toContainText("nothing was written");
  await expect(page.locator('[data-field="spec.hosts[0]"]')).toBeVisible();
  expect(getEntry(ns, "broken").status).not.toBe(0);

  await create.submitYaml(httpbin(ns));
  await expect(page.getByTestId("created")).toContainText(`${ns}/httpbin.org`);
  expect(getEntry(ns, "httpbin.org").status).toBe(0);
});

test("the lost-connection notice appears when the apiserver stops and clears when it is back", async ({ page }) => {
  test.setTimeout(90_000);
  const testenv = path.resolve(__dirname, "../../testenv");
  const nsPage = new NamespacePage(page);
  await nsPage.goto("smm-demo");
  await expect(nsPage.connectionLost).toHaveCount(0);
  expect((await page.request.get("/readyz")).status()).toBe(200);
  execFileSync(path.join(testenv, "stop-apiserver.sh"));
  try {
    await expect(nsPage.connectionLost).toBeVisible({ timeout: 20_000 });
    await expect(nsPage.connectionLost).toContainText("cannot reach the Kubernetes API server");
    // Not ready while the API server is gone, so a Service stops sending it traffic.
    expect((await page.request.get("/readyz")).status()).toBe(503);
  } finally {
    execFileSync(path.join(testenv, "start-apiserver.sh"));
  }
  await expect(nsPage.connectionLost).toHaveCount(0, { timeout: 60_000 });
  await expect.poll(async () => (await page.request.get("/readyz")).status(), { timeout: 30_000 }).toBe(200);
  await expect(nsPage.row("smm-demo", "httpbin.org")).toBeVisible();
});

test("all namespaces: search names and hosts; the detail shows every field and the YAML", async ({ page }) => {
  // The list is paged (other tests' namespaces may fill the first page): search finds it.
  await page.goto("/services");
  await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
  const stripe = page.getByTestId("se-row-payments-stripe-api");
  await page.getByTestId("se-search").fill("api.stripe");
  await expect(stripe).toBeVisible();
  await expect(page.getByTestId("se-row-smm-demo-httpbin.org")).toHaveCount(0);
  // HTTPS/TLS/TCP ports say the mesh sees only TCP-level traffic.
  await expect(stripe).toContainText("443/tls (TLS) · TCP-level only");

  await stripe.getByRole("link", { name: "stripe-api" }).click();
  await expect(page.getByTestId("detail-hosts")).toHaveText("api.stripe.com");
  await expect(page.getByTestId("detail-yaml")).toContainText("kind: ServiceEntry");
  await expect(page.getByTestId("detail-valid")).toBeVisible();
  await expect(page.getByTestId("download-yaml")).toHaveAttribute("download", "stripe-api.yaml");
});

test("a bad form line refuses the form, and the YAML sent next shows its own result", async ({ page }) => {
  const ns = randomName("e2e-latest");
  kubectl("create", "namespace", ns);
  const create = new CreatePage(page);
  await create.goto(ns);
  await create.field("name").fill("half");
  await create.field("hosts").fill("api.example.com");
  // The second line is not NUMBER NAME PROTOCOL: nothing may be written without it.
  await create.field("ports").fill("443 tls TLS\neighty http");
  await create.submitForm();
  await expect(page.getByTestId("error")).toContainText("nothing was written");
  expect(getEntry(ns, "half").status).not.toBe(0);

  await create.submitYaml(httpbin(ns));
  await expect(page.getByTestId("created")).toContainText(`${ns}/httpbin.org`);
  await expect(page.getByTestId("error")).toHaveCount(0);
});

test("Copy says Copied only when the clipboard took the text", async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(navigator, "clipboard", {
      value: { writeText: () => Promise.reject(new Error("denied")) },
    });
  });
  await page.goto("/namespaces/payments/serviceentries/stripe-api");
  await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
  await page.getByTestId("copy-yaml").click();
  await expect(page.getByTestId("copy-yaml")).toContainText("Copy failed");
  await expect(page.getByTestId("copy-yaml")).not.toHaveText("Copied");
});

test("a delete of an entry changed since the page showed it deletes nothing", async ({ browser }) => {
  // Without WASM the page is not live: it keeps showing the version it was rendered with.
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const ns = randomName("e2e-stale");
  kubectl("create", "namespace", ns);
  kubectlApply(httpbin(ns));
  await page.goto(`/namespaces/${ns}`);
  await expect(page.getByTestId(`se-row-${ns}-httpbin.org`)).toBeVisible();

  // Another operator changes it with kubectl before the click.
  kubectl("patch", "serviceentry", "httpbin.org", "-n", ns, "--type", "merge", "-p", '{"spec":{"hosts":["httpbin.org"]}}');
  await page.getByTestId("delete-confirm-httpbin.org").check();
  await page.getByTestId("delete-httpbin.org").click();
  await expect(page.locator("body")).toContainText("changed since you saw it");
  const kept = getEntry(ns, "httpbin.org");
  expect(kept.status).toBe(0);
  expect(kept.spec).toMatchObject({ hosts: ["httpbin.org"] });
  await context.close();
});
