import { expect, test } from "@playwright/test";

// A first load of `/` as Chromium sees it on the network: every file compressed as served (the
// site's files pre-compressed, named by content hash and kept for good), the bytes counted from
// the network events. The total is printed for BENCHMARKS.md.
test("a first load of / arrives compressed, hashed files cached for good", async ({ page }) => {
  const seen: { url: string; bytes: number; encoding?: string; cache?: string }[] = [];
  page.on("requestfinished", async (request) => {
    const response = await request.response();
    const sizes = await request.sizes();
    const headers = (await response?.allHeaders()) ?? {};
    seen.push({
      url: new URL(request.url()).pathname,
      bytes: sizes.responseBodySize + sizes.responseHeadersSize,
      encoding: headers["content-encoding"],
      cache: headers["cache-control"],
    });
  });
  await page.goto("/");
  await expect(page.locator("main[data-hydrated=true]")).toBeAttached({ timeout: 15_000 });
  await page.waitForLoadState("networkidle");
  const of = (ext: string) => seen.find((s) => s.url.startsWith("/pkg/") && s.url.endsWith(ext));
  for (const ext of [".wasm", ".js", ".css"]) {
    const file = of(ext);
    expect(file, `${ext} loaded`).toBeTruthy();
    expect(file?.url, "a content hash in the name").toMatch(/\/pkg\/mesh-egress\.[A-Za-z0-9_-]{8,}\./);
    expect(file?.encoding, `${ext} compressed`).toBe("br");
    expect(file?.cache).toContain("immutable");
  }
  const html = seen.find((s) => s.url === "/");
  expect(html?.encoding).toBe("br");
  const total = seen.reduce((sum, s) => sum + s.bytes, 0);
  console.log(`wire: first load of / = ${(total / 1024).toFixed(1)} KB (${seen.map((s) => `${s.url} ${s.bytes}`).join(", ")})`);
  expect(total, "a first load of / under 250 KB").toBeLessThan(250 * 1024);
});
