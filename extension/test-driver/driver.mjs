// Drives a real VS Code (code-server) in Debian's headless Chromium while the extension's integration tests
// run inside it: opens the test payload URL, takes the screenshots the tests ask for (a console marker), and
// waits for the results file. Usage:
//   node driver.mjs --url URL --shots DIR --results FILE [--timeout SECONDS]
//   node driver.mjs --url URL --open FILE_NAME --check-status TEXT [--shots DIR]
// The second form opens a file (Quick Open) and waits for a status-bar item with TEXT: the .vsix smoke test.
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const timeoutMs = Number(args.timeout ?? 600) * 1000;
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

// How each named screenshot is staged before the picture is taken.
const STAGING = {
  "status-bar": async (page) => {
    await page.locator(".statusbar-item", { hasText: "PerfOrch: writer-a" }).first().hover();
    await page.locator(".monaco-hover").first().waitFor({ state: "visible", timeout: 10000 });
  },
  "code-action": async (page) => {
    await page.keyboard.press("Control+.");
    await page.locator(".action-widget").first().waitFor({ state: "visible", timeout: 10000 });
  },
  progress: async (page) => {
    await page.locator(".notification-list-item", { hasText: "PerfOrch generate" }).first().waitFor({ state: "visible", timeout: 10000 });
  },
  diff: async (page) => {
    await page.locator(".monaco-diff-editor").first().waitFor({ state: "visible", timeout: 10000 });
    await page.waitForTimeout(800); // the diff decorations arrive after the editors
  },
  "early-offer": async (page) => {
    await page.locator(".monaco-diff-editor").first().waitFor({ state: "visible", timeout: 10000 });
    await page.waitForTimeout(800);
  },
  walkthrough: async (page) => {
    await page.locator(".gettingStartedContainer iframe").first().waitFor({ state: "visible", timeout: 10000 });
    await page.waitForTimeout(1500); // the step's markdown renders in a webview
  },
  "failure-key": async (page) => {
    await page.locator(".notification-list-item", { hasText: "is not set" }).first().waitFor({ state: "visible", timeout: 10000 });
  },
  "failure-candidate": async (page) => {
    await page.locator(".monaco-diff-editor").first().waitFor({ state: "visible", timeout: 10000 });
    await page.waitForTimeout(800);
  },
  "broken-config": async (page) => {
    await page.locator(".markers-panel .monaco-list-row", { hasText: "invalid TOML" }).first().waitFor({ state: "visible", timeout: 10000 });
  },
  rankings: async (page) => {
    await page.locator("iframe.webview").first().waitFor({ state: "visible", timeout: 10000 });
    await page.waitForTimeout(1500); // the webview's document loads in a nested frame
  },
};
const UNSTAGING = {
  "code-action": async (page) => page.keyboard.press("Escape"),
  "status-bar": async (page) => page.mouse.move(600, 300),
};

// Keys pressed in the proposal's diff (its right side focused by a click first).
async function pressInDiff(page, keys) {
  await page.locator(".monaco-diff-editor .editor.modified .view-lines").first().click();
  await page.keyboard.press(keys);
}

// Things a test asks the driver to do in the page, for real input events.
const ACTIONS = {
  "press-accept": async (page) => pressInDiff(page, "Control+Alt+Enter"),
  "press-reject": async (page) => pressInDiff(page, "Control+Alt+Backspace"),
  "result-visible": async (page) => {
    await page.locator(".statusbar-item", { hasText: "PerfOrch: generate count_vowels" }).first().waitFor({ state: "visible", timeout: 5000 });
  },
  "walkthrough-visible": async (page) => {
    const walkthrough = page.locator(".gettingStartedContainer", { hasText: "Get started with PerfOrch" }).first();
    await walkthrough.waitFor({ state: "visible", timeout: 15000 });
    await walkthrough.getByText("Install the PerfOrch server").first().waitFor({ state: "visible", timeout: 5000 });
  },
  "click-cancel": async (page) => {
    const item = page.locator(".notification-list-item", { hasText: "PerfOrch optimize" }).first();
    await item.waitFor({ state: "visible", timeout: 10000 });
    await item.getByRole("button", { name: "Cancel" }).click();
  },
};

async function doAction(page, name, dir) {
  let failure = "";
  try {
    await ACTIONS[name](page);
  } catch (error) {
    failure = String(error.message ?? error).split("\n")[0] || "failed";
  }
  fs.writeFileSync(path.join(dir, `${name}.done.tmp`), failure);
  fs.renameSync(path.join(dir, `${name}.done.tmp`), path.join(dir, `${name}.done`));
  console.log(`driver: ${name} ${failure || "done"}`);
}

async function takeShot(page, name) {
  try {
    await (STAGING[name] ?? (async () => {}))(page);
  } catch (error) {
    console.error(`driver: staging ${name}: ${error.message.split("\n")[0]}`);
  }
  const file = path.join(args.shots, `${name}.png`);
  await page.screenshot({ path: `${file}.tmp.png` });
  fs.renameSync(`${file}.tmp.png`, file); // the test waits for the file: it must appear whole
  await (UNSTAGING[name] ?? (async () => {}))(page);
  console.log(`driver: screenshot ${file}`);
}

async function openFile(page, name) {
  await page.waitForTimeout(1500); // the workbench takes keys only once its parts are restored
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 20000 });
  await input.fill(name);
  await page.locator(".quick-input-list .monaco-list-row").first().waitFor({ timeout: 20000 });
  await page.keyboard.press("Enter");
}

async function main() {
  // Playwright gives the browser a fresh, temporary profile of its own.
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: FLAGS });
  let code = 1;
  let page;
  try {
    page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    const shots = [];
    page.on("console", (message) => {
      const text = message.text();
      const marker = /PERFORCH_SHOT (\S+)/.exec(text);
      const action = /PERFORCH_ACTION (\S+)/.exec(text);
      if (marker && args.shots) {
        shots.push(takeShot(page, marker[1]).catch((error) => console.error(`driver: ${error}`)));
      } else if (action && args.shots) {
        shots.push(doAction(page, action[1], args.shots));
      } else if (/PerfOrch|perforch|Error/.test(text)) {
        console.log(`page: ${text.slice(0, 400)}`);
      }
    });
    await page.goto(args.url);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    if (args.open) {
      await openFile(page, args.open);
    }
    if (args["check-status"]) {
      await page.locator(".statusbar-item", { hasText: args["check-status"] }).first().waitFor({ timeout: timeoutMs });
      if (args.shots) {
        await page.screenshot({ path: path.join(args.shots, "installed.png") });
      }
      console.log(`driver: status bar shows ${args["check-status"]}`);
      code = 0;
      return;
    }
    const deadline = Date.now() + timeoutMs;
    while (!fs.existsSync(args.results)) {
      if (Date.now() > deadline) {
        throw new Error(`no results after ${timeoutMs / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await Promise.all(shots);
    code = 0;
  } catch (error) {
    console.error(`driver: ${error.stack ?? error}`);
    if (args.shots && page) {
      await page.screenshot({ path: path.join(args.shots, "driver-failure.png") }).catch(() => {});
    }
  } finally {
    await browser.close();
  }
  process.exitCode = code;
}

await main();
