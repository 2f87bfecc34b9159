// Drives tfe-emulator's page in a headless Chromium as a person would: from the organization list to the
// workspace, to its run waiting for confirmation, clicks "Confirm & apply" and watches the page (without a
// reload) follow the run to "applied". Started by tests/e2e/web_page.rs; settings come from the environment:
//
//   TFE_EMULATOR_URL   the emulator's base URL (HTTPS with its own CA: certificate errors are ignored here)
//   ORGANIZATION, WORKSPACE   where the run is
//   CHROMIUM           the browser (Debian's /usr/bin/chromium)
//   PLAYWRIGHT_CORE    the playwright-core package directory (installed by `make browser-tools`)
//   SCREENSHOT_DIR     where the screenshots go
"use strict";

const path = require("path");
const need = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`confirm_run.cjs: ${name} is not set`); process.exit(2); }
  return v;
};
const base = need("TFE_EMULATOR_URL");
const org = need("ORGANIZATION");
const workspace = need("WORKSPACE");
const shots = need("SCREENSHOT_DIR");
const { chromium } = require(need("PLAYWRIGHT_CORE"));

const step = (text) => console.log(`step: ${text}`);

(async () => {
  const browser = await chromium.launch({
    executablePath: need("CHROMIUM"),
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const consoleErrors = [];
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });

    step("open the organization list");
    await page.goto(`${base}/`);
    const row = page.locator(`[data-testid=organization][data-name="${org}"] [data-testid=workspace-row][data-name="${workspace}"]`);
    await row.waitFor({ timeout: 30000 });
    step("open the workspace");
    await row.getByRole("link", { name: workspace, exact: true }).click();
    await page.waitForURL(`**/app/${org}/workspaces/${workspace}`);

    step("wait for its run and open it");
    const runLink = page.locator("[data-testid=run-row] a").first();
    await runLink.waitFor({ timeout: 60000 });
    const runId = (await runLink.textContent()).trim();
    await runLink.click();
    await page.waitForURL(`**/runs/${runId}`);

    step(`wait for ${runId} to need confirmation`);
    const confirm = page.getByRole("button", { name: "Confirm & apply" });
    await confirm.waitFor({ timeout: 60000 });
    const planLog = await page.locator("[data-testid=plan-log]").textContent();
    if (!/Plan: \d+ to add, \d+ to change, \d+ to destroy\./.test(planLog)) throw new Error(`plan log: ${planLog}`);
    await page.screenshot({ path: path.join(shots, "run-needs-confirmation.png"), fullPage: true });

    step("click Confirm & apply");
    await confirm.click();
    await page.locator("[data-testid=run-status][data-status=applied]").waitFor({ timeout: 60000 });
    await page.locator("[data-testid=timeline] li[data-status=confirmed]").waitFor({ timeout: 5000 });
    await page.locator("[data-testid=apply-log]", { hasText: "Apply complete! Resources:" }).waitFor({ timeout: 5000 });
    await page.screenshot({ path: path.join(shots, "run-applied.png"), fullPage: true });
    if (consoleErrors.length) throw new Error(`the page logged errors: ${consoleErrors.join("; ")}`);
    console.log(`confirmed: ${runId}`);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(`confirm_run.cjs failed: ${e && e.stack || e}`);
  process.exit(1);
});
