import { expect, test } from "@playwright/test";
import { httpbinEntry, kubectl, kubectlApply, kubectlReplace, randomName } from "./fixtures/kubectl";

// The demo's entry is put back exactly as the seed writes it after the test, whatever happens.
const restoreDemo = () => kubectlReplace(httpbinEntry("smm-demo"));

function stored(): { spec: any; labels: any; annotations: any } {
  const object = JSON.parse(kubectl("get", "serviceentry", "httpbin.org", "-n", "smm-demo", "-o", "json"));
  return { spec: object.spec, labels: object.metadata.labels, annotations: object.metadata.annotations };
}

test("edit the demo's httpbin.org in place: diff first, a concurrent kubectl change is not overwritten, labels survive", async ({ page }) => {
  try {
    // Set with kubectl before the edit: kept by it.
    kubectl("label", "serviceentry", "httpbin.org", "-n", "smm-demo", "team=payments", "--overwrite");
    kubectl("annotate", "serviceentry", "httpbin.org", "-n", "smm-demo", "owner=platform", "--overwrite");

    await page.goto("/namespaces/smm-demo/serviceentries/httpbin.org");
    await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
    // NB: a live push may re-render the link right as it is clicked: click until it navigates.
    await expect(async () => {
      await page.getByTestId("edit-link").click();
      await expect(page).toHaveURL(/\/namespaces\/smm-demo\/serviceentries\/httpbin.org\/edit$/, { timeout: 1_000 });
    }).toPass();
    // The edit page is a page load of its own: its form previews in place once hydrated.
    await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
    await expect(page.getByTestId("form-ports")).toHaveValue("80 http HTTP");
    await expect(page.getByTestId("form-name")).toHaveJSProperty("readOnly", true);

    await page.getByTestId("form-ports").fill("80 http HTTP\n443 https TLS");
    await page.getByTestId("edit-preview").click();
    const diff = page.getByTestId("edit-diff");
    await expect(diff).toBeVisible();
    await expect(diff.getByTestId("change")).toHaveCount(1);
    await expect(diff.getByTestId("change")).toContainText("spec.ports[1]");
    await expect(diff.getByTestId("diff-yaml").locator("span.added")).toContainText(["443"]);
    expect(stored().spec.ports).toHaveLength(1); // a preview writes nothing

    // Someone changes the entry with kubectl between the preview and the click on Save.
    kubectl("annotate", "serviceentry", "httpbin.org", "-n", "smm-demo", "reviewed=yes");
    await page.getByTestId("edit-save").click();
    await expect(page.getByTestId("error")).toContainText("changed since you opened it");
    expect(stored().spec.ports).toHaveLength(1);

    // Preview again: against the new version, and it says so; then save.
    await page.getByTestId("edit-preview").click();
    await expect(page.getByTestId("changed-since-opened")).toBeVisible();
    await page.getByTestId("edit-save").click();
    const saved = page.getByTestId("saved");
    await expect(saved).toContainText("443/https (TLS)");

    const after = stored();
    expect(after.spec.ports).toEqual([
      { number: 80, name: "http", protocol: "HTTP" },
      { number: 443, name: "https", protocol: "TLS" },
    ]);
    expect(after.labels).toMatchObject({ team: "payments" });
    expect(after.annotations).toMatchObject({ owner: "platform", reviewed: "yes" });

    // The entry's page shows it.
    await saved.getByRole("link").click();
    await expect(page.getByTestId("detail-ports")).toContainText("443/https (TLS)");
  } finally {
    restoreDemo();
  }
});

test("delete from the entry's page, undo; duplicate it into another namespace", async ({ page }) => {
  const ns = randomName("e2e-entry");
  const other = randomName("e2e-copy");
  kubectl("create", "namespace", ns);
  kubectl("create", "namespace", other);
  kubectlApply(httpbinEntry(ns));
  const before = JSON.parse(kubectl("get", "serviceentry", "httpbin.org", "-n", ns, "-o", "json"));

  await page.goto(`/namespaces/${ns}/serviceentries/httpbin.org`);
  await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
  await page.getByTestId("delete-confirm-httpbin.org").check();
  await page.getByTestId("delete-httpbin.org").click();
  await expect(page.getByTestId("deleted-notice")).toContainText("Pods no longer reach httpbin.org, www.httpbin.org");
  expect(() => kubectl("get", "serviceentry", "httpbin.org", "-n", ns)).toThrow();

  await page.getByTestId("undo").click();
  await expect(page.getByTestId("detail-hosts")).toHaveText("httpbin.org, www.httpbin.org");
  const after = JSON.parse(kubectl("get", "serviceentry", "httpbin.org", "-n", ns, "-o", "json"));
  expect(after.spec).toEqual(before.spec);

  // Duplicate: the create form filled in from it, for a namespace the user picks.
  await page.getByTestId("duplicate-link").click();
  await expect(page).toHaveURL(new RegExp(`/new\\?duplicate=${ns}/httpbin.org$`));
  await expect(page.locator("main[data-hydrated=true]")).toHaveCount(1);
  await expect(page.getByTestId("form-name")).toHaveValue("httpbin.org");
  await expect(page.getByTestId("form-hosts")).toHaveValue("httpbin.org\nwww.httpbin.org");
  await expect(page.getByTestId("form-namespace")).toHaveValue("");
  // The picker offers the namespaces the user may write to.
  await expect(page.locator(`datalist#writable-namespaces option[value="${other}"]`)).toHaveCount(1);
  await page.getByTestId("form-namespace").fill(other);
  await page.getByTestId("create-submit").click();
  await expect(page.getByTestId("created")).toContainText(`${other}/httpbin.org`);
  const copy = JSON.parse(kubectl("get", "serviceentry", "httpbin.org", "-n", other, "-o", "json"));
  expect(copy.spec).toEqual(before.spec);
  kubectl("delete", "serviceentry", "httpbin.org", "-n", ns);
  kubectl("delete", "serviceentry", "httpbin.org", "-n", other);
});

test("without WASM an edit saves directly, and still not over a change made meanwhile", async ({ browser }) => {
  const ns = randomName("e2e-nojs-edit");
  kubectl("create", "namespace", ns);
  kubectlApply(httpbinEntry(ns));
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`/namespaces/${ns}/serviceentries/httpbin.org/edit`);
  await page.getByTestId("form-ports").fill("80 http HTTP\n443 https TLS");
  const ports = () => JSON.parse(kubectl("get", "serviceentry", "httpbin.org", "-n", ns, "-o", "json")).spec.ports;
  await page.getByTestId("edit-save-direct").first().click();
  await expect.poll(() => ports().length).toBe(2);
  await expect(page).toHaveURL(/\/edit\??$/); // back on the page it was sent from
  await expect(page.getByTestId("error")).toHaveCount(0);

  // Opened, then changed with kubectl, then saved: refused, nothing overwritten.
  await page.goto(`/namespaces/${ns}/serviceentries/httpbin.org/edit`);
  kubectl("annotate", "serviceentry", "httpbin.org", "-n", ns, "reviewed=yes");
  await page.getByTestId("form-ports").fill("80 http HTTP");
  await page.getByTestId("edit-save-direct").first().click();
  await expect(page.getByTestId("error")).toContainText("changed since you opened it");
  expect(ports()).toHaveLength(2);
  await context.close();
  kubectl("delete", "serviceentry", "httpbin.org", "-n", ns);
});
