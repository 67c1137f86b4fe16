// The integration tests' entry point inside a real VS Code's extension host (code-server, see
// tests/test_vscode_extension.py): the contract of @vscode/test-electron, `run(): Promise<void>`. Mocha runs
// the suites; each test's outcome goes to the JSON file named by PERFORCH_VSCODE_RESULTS for the driver.
import * as fs from "node:fs";
import * as path from "node:path";
import Mocha from "mocha";

interface Outcome {
  title: string;
  state: "passed" | "failed";
  error?: string;
  ms?: number;
}

export async function run(): Promise<void> {
  const results = process.env.PERFORCH_VSCODE_RESULTS;
  const mocha = new Mocha({ ui: "bdd", timeout: 600000, color: false });
  const grep = process.env.PERFORCH_VSCODE_GREP;
  if (grep) {
    mocha.grep(grep);
  }
  const suites = path.join(__dirname, "suite");
  for (const file of fs.readdirSync(suites).filter((name) => name.endsWith(".test.js")).sort()) {
    mocha.addFile(path.join(suites, file));
  }
  const outcomes: Outcome[] = [];
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    runner.on("pass", (test) => outcomes.push({ title: test.fullTitle(), state: "passed", ms: test.duration }));
    runner.on("fail", (test, error) => outcomes.push({ title: test.fullTitle(), state: "failed", error: String(error?.stack ?? error) }));
  });
  if (results) {
    fs.writeFileSync(`${results}.tmp`, JSON.stringify({ failures, outcomes }, null, 2));
    fs.renameSync(`${results}.tmp`, results); // the driver polls for the file: it must appear whole
  }
  if (failures > 0) {
    throw new Error(`${failures} PerfOrch integration test(s) failed`);
  }
}
