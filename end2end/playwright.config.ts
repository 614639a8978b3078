import { defineConfig } from "@playwright/test";
import * as path from "path";

// The release server, started against the test control plane (make test brings it up).
const port = Number(process.env.E2E_PORT ?? 3100);
export const sharedPort = Number(process.env.E2E_SHARED_PORT ?? 3101);
const root = path.resolve(__dirname, "..");
// The test control plane's Prometheus (make testenv-up prints it).
const prometheus = process.env.PROMETHEUS_URL ?? "http://127.0.0.1:19090";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "on-first-retry",
    browserName: "chromium",
    launchOptions: {
      // NB: Debian's chromium; Playwright's own browser download fails on these machines.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      // Local mode: the admin kubeconfig's identity.
      command: `${root}/target/release/mesh-egress --kubeconfig ${root}/target/testenv/kubeconfig --istiod-debug http://127.0.0.1:15080 --prometheus ${prometheus} serve --addr 127.0.0.1:${port}`,
      url: `http://127.0.0.1:${port}/healthz`,
      env: { LEPTOS_SITE_ROOT: `${root}/target/site`, LEPTOS_ENV: "PROD", RUST_LOG: "info" },
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      // Shared mode: users sign in with their own token.
      command: `${root}/target/release/mesh-egress --kubeconfig ${root}/target/testenv/kubeconfig serve --auth token --addr 127.0.0.1:${sharedPort}`,
      url: `http://127.0.0.1:${sharedPort}/healthz`,
      env: { LEPTOS_SITE_ROOT: `${root}/target/site`, LEPTOS_ENV: "PROD", RUST_LOG: "info" },
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
  ],
});
