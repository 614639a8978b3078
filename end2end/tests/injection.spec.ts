import { expect, test, type Page } from "@playwright/test";
import { kubectl, kubectlApply, randomName } from "./fixtures/kubectl";

// What an attacker writes wherever text lands: it closes every element whose content is written
// raw or escaped by hand (textarea, title, script, style), leaves an attribute, and adds elements
// of its own, in HTML and in SVG. None of them may exist in any page.
const PAYLOAD =
  `</textarea></title></script></style>"'><b id="injected">x</b>` +
  `<svg><rect id="injected-svg"></rect></svg><img id="injected-img" src="/favicon.ico">`;
const INJECTED = "#injected, #injected-svg, #injected-img";

// Every query parameter a page reads, plus a few it does not.
const PARAMS = [
  "drafts", "host", "port", "protocol", "name", "namespace", "page", "q", "size", "sort",
  "verdict", "window", "duplicate", "error", "control_plane", "gateway",
];

function hostile(path: string, value = PAYLOAD): string {
  const query = PARAMS.map((p) => `${p}=${encodeURIComponent(value)}`).join("&");
  return `${path}?${query}`;
}

async function noInjectedElement(page: Page, url: string) {
  const response = await page.goto(url);
  expect(response?.status(), url).toBeLessThan(500);
  await expect(page.locator("main")).toBeVisible();
  expect(await page.locator(INJECTED).count(), url).toBe(0);
}

test.describe("text from users and the cluster is never markup", () => {
  const namespace = randomName("inject");
  const name = "hostile";

  test.beforeAll(() => {
    kubectl("create", "namespace", namespace);
    // Fields of the object that take any text: an annotation and a subjectAltName.
    kubectlApply(JSON.stringify({
      apiVersion: "networking.istio.io/v1",
      kind: "ServiceEntry",
      metadata: { name, namespace, annotations: { note: PAYLOAD } },
      spec: {
        hosts: ["hostile.example.com"],
        ports: [{ number: 443, name: "tls", protocol: "TLS" }],
        resolution: "DNS",
        location: "MESH_EXTERNAL",
        subjectAltNames: [PAYLOAD],
      },
    }));
  });

  test.afterAll(() => {
    kubectl("delete", "namespace", namespace, "--wait=false");
  });

  const pages = () => [
    "/", "/services", "/traffic", "/rollout", "/map", "/gateways", "/new", "/login",
    `/namespaces/${namespace}`,
    `/namespaces/${namespace}/serviceentries/${name}`,
    `/namespaces/${namespace}/serviceentries/${name}/edit`,
    `/new?duplicate=${namespace}/${name}`,
    `/namespaces/${encodeURIComponent(PAYLOAD)}`,
    `/namespaces/${namespace}/serviceentries/${encodeURIComponent(PAYLOAD)}`,
  ];

  test("every page, hostile text in every query parameter and in the objects it shows", async ({ page }) => {
    test.setTimeout(120_000);
    for (const path of pages()) {
      const url = path.includes("?") ? path : hostile(path);
      await noInjectedElement(page, url);
      // Hydrated too: the islands render the same text in the browser.
      await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
      expect(await page.locator(INJECTED).count(), url).toBe(0);
    }
  });

  test("without JavaScript, the server's HTML holds no injected element", async ({ browser }) => {
    test.setTimeout(120_000);
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    for (const path of pages()) {
      await noInjectedElement(page, path.includes("?") ? path : hostile(path));
    }
    await context.close();
  });

  test("a textarea gives back exactly what it was given", async ({ page }) => {
    await page.goto(`/rollout?drafts=${encodeURIComponent(PAYLOAD)}`);
    await expect(page.getByTestId("drafts")).toHaveValue(PAYLOAD);
    await page.goto(`/namespaces/${namespace}/serviceentries/${name}/edit`);
    const yaml = await page.getByTestId("edit-yaml").inputValue();
    expect(yaml).toContain("</textarea></title></script></style>");
    expect(await page.locator(INJECTED).count()).toBe(0);
    // The duplicate's form holds the subjectAltName as it is in the cluster.
    await page.goto(`/new?duplicate=${namespace}/${name}`);
    await expect(page.getByTestId("form-subject_alt_names")).toHaveValue(PAYLOAD);
  });
});
