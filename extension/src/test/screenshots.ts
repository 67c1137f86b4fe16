// Screenshots of the real UI, taken by the Playwright driver outside VS Code: the test logs a marker to the
// console (which reaches the page), the driver prepares the view named, saves the PNG and writes it whole;
// the test waits for the file so the UI is not changed under the camera.
import * as fs from "node:fs";
import * as path from "node:path";

export async function screenshot(name: string, timeoutMs = 30000): Promise<string | undefined> {
  const dir = process.env.PERFORCH_VSCODE_SHOTS;
  if (!dir) {
    return undefined; // run without the driver: nothing to wait for
  }
  const file = path.join(dir, `${name}.png`);
  fs.rmSync(file, { force: true });
  console.log(`PERFORCH_SHOT ${name}`);
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) {
      throw new Error(`the driver took no screenshot '${name}' within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return file;
}

/** Ask the driver to do something in the page (a real click), and wait until it says it is done. */
export async function driverAction(name: string, timeoutMs = 30000): Promise<void> {
  const dir = process.env.PERFORCH_VSCODE_SHOTS;
  if (!dir) {
    throw new Error(`the action '${name}' needs the driver (PERFORCH_VSCODE_SHOTS is not set)`);
  }
  const done = path.join(dir, `${name}.done`);
  fs.rmSync(done, { force: true });
  console.log(`PERFORCH_ACTION ${name}`);
  await until(() => fs.existsSync(done), `the driver's '${name}'`, timeoutMs);
  const failure = fs.readFileSync(done, "utf-8");
  fs.rmSync(done, { force: true });
  if (failure) {
    throw new Error(`the driver's '${name}' failed: ${failure}`);
  }
}

/** Poll `check` until it returns something truthy. */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
