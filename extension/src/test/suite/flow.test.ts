// The whole flow in a real VS Code against the real Python server and the scripted model server that
// tests/test_vscode_extension.py starts: the workspace holds copies of examples/python and examples/rust, and
// the user settings point perforch.models at the scripted server. Tests run in order and share the server.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { ExitNotification } from "vscode-languageclient/node";
import type { PerfOrchApi } from "../../extension";
import type { JobResult } from "../../jobs";
import { SCHEME } from "../../preview";
import { driverAction, screenshot, until } from "../screenshots";

const WORKSPACE = process.env.PERFORCH_VSCODE_WORKSPACE ?? "";
const KEY = process.env.PERFORCH_VSCODE_KEY ?? "";
const BARE_PYTHON = process.env.PERFORCH_VSCODE_BARE_PYTHON ?? ""; // a Python without PerfOrch
const PYTHON_FILE = path.join(WORKSPACE, "python", "textstats", "core.py");
const RUST_FILE = path.join(WORKSPACE, "rust", "src", "lib.rs");

let api: PerfOrchApi;

async function open(file: string, functionName: string): Promise<vscode.TextEditor> {
  const editor = await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
  const line = editor.document.getText().split("\n").findIndex((text) => text.includes(functionName));
  assert.ok(line >= 0, `${functionName} not found in ${file}`);
  const at = new vscode.Position(line, 4);
  editor.selection = new vscode.Selection(at, at);
  return editor;
}

function diffTabs(): vscode.TabInputTextDiff[] {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .map((tab) => tab.input)
    .filter((input): input is vscode.TabInputTextDiff => input instanceof vscode.TabInputTextDiff && input.modified.scheme === SCHEME);
}

async function codeActions(editor: vscode.TextEditor): Promise<vscode.CodeAction[]> {
  const at = editor.selection.active;
  return vscode.commands.executeCommand<vscode.CodeAction[]>("vscode.executeCodeActionProvider", editor.document.uri, new vscode.Range(at, at));
}

async function actionTitles(editor: vscode.TextEditor): Promise<string[]> {
  return (await codeActions(editor)).map((action) => action.title);
}

/** What the lightbulb does with the action: run its command (the client routes it to the job runner). */
async function runFromLightbulb(editor: vscode.TextEditor): Promise<JobResult> {
  const [action] = await codeActions(editor);
  assert.ok(action?.command, "a code action with a command");
  return vscode.commands.executeCommand<JobResult>(action.command.command, ...(action.command.arguments ?? []));
}

/** Start a generate at the cursor and wait for its diff; the progress is photographed on the way. */
async function generateWithPreview(shoot: boolean, start: () => Thenable<JobResult>): Promise<JobResult> {
  const progress: string[] = [];
  const listener = api.jobs.onDidReport((message) => {
    progress.push(message);
    console.log(`PerfOrch test: progress ${message}`);
  });
  try {
    const job = start();
    await until(() => progress.some((message) => message === "count_vowels: generate (writer-a) started"), "a progress report naming the generate stage and its model", 60000);
    if (shoot) {
      // Under the smoke-test driver (which the test payload needs) VS Code shows no toasts: the
      // notification, with its Cancel button, is photographed in the notification center instead.
      await vscode.commands.executeCommand("notifications.showList");
      await screenshot("progress");
      await vscode.commands.executeCommand("notifications.hideList");
    }
    const result = await job;
    console.log(`PerfOrch test: job ${result.status} ${result.id ?? ""}`);
    assert.equal(result.status, "done", JSON.stringify(result));
    assert.equal(result.passed, true, JSON.stringify(result));
    await until(() => diffTabs().length === 1, "the diff preview", 20000);
    return result;
  } finally {
    listener.dispose();
  }
}

describe("PerfOrch in VS Code", () => {
  before(async () => {
    const extension = vscode.extensions.getExtension<PerfOrchApi>("perforch.perforch");
    assert.ok(extension, "the extension is not loaded");
    api = await extension.activate();
    await vscode.commands.executeCommand("workbench.action.closeSidebar"); // wider editors in the screenshots
    await until(() => api.client.state === "running", `the server to run (state: ${api.client.state} ${api.client.problem})`, 60000);
  });

  it("hands an API key from secret storage to the server", async () => {
    await api.keys.set("PERFORCH_TEST_KEY", KEY);
    assert.ok(await api.client.restart(), api.client.problem);
    await until(() => api.client.state === "running", "the restarted server", 60000);
    assert.deepEqual(api.keys.names(), ["PERFORCH_TEST_KEY"]);
  });

  it("shows the top Python generator in the status bar", async () => {
    await open(PYTHON_FILE, "def count_vowels");
    await until(() => api.status.item.text.includes("writer-a"), `the Python ranking (status: ${api.status.item.text})`);
    const tooltip = api.status.item.tooltip as vscode.MarkdownString;
    assert.match(tooltip.value, /\| generate \| `writer-a` \| `writer-b` \|/);
    await screenshot("status-bar");
  });

  it("offers Generate on a stub and Optimize on a finished function", async () => {
    const stub = await open(PYTHON_FILE, "def count_vowels");
    assert.deepEqual(await actionTitles(stub), ["Generate with PerfOrch"]);
    await vscode.commands.executeCommand("workbench.action.focusActiveEditorGroup");
    await screenshot("code-action");
    const finished = await open(PYTHON_FILE, "def has_duplicates");
    assert.deepEqual(await actionTitles(finished), ["Optimize with PerfOrch"]);
  });

  it("generates with progress and a diff; Reject leaves the file byte-identical", async () => {
    const before = fs.readFileSync(PYTHON_FILE);
    await open(PYTHON_FILE, "def count_vowels");
    const result = await generateWithPreview(true, () => vscode.commands.executeCommand<JobResult>("perforch.generateHere"));
    const [diff] = diffTabs();
    assert.equal(diff.original.fsPath, PYTHON_FILE);
    const proposed = (await vscode.workspace.openTextDocument(diff.modified)).getText();
    assert.match(proposed, /return sum\(1 for ch in text\.lower\(\) if ch in "aeiou"\)/);
    assert.equal(result.models?.generate, "writer-a");
    await screenshot("diff");
    assert.ok(await vscode.commands.executeCommand("perforch.rejectProposal"));
    assert.equal(diffTabs().length, 0);
    assert.deepEqual(fs.readFileSync(PYTHON_FILE), before);
    assert.equal(api.previews.pending.length, 0);
  });

  it("runs the lightbulb's action with the same preview; Accept applies and saves it; tokens and cost are shown", async () => {
    const editor = await open(PYTHON_FILE, "def count_vowels");
    await generateWithPreview(false, () => runFromLightbulb(editor));
    assert.ok(await vscode.commands.executeCommand("perforch.acceptProposal"));
    const written = fs.readFileSync(PYTHON_FILE, "utf-8");
    assert.match(written, /return sum\(1 for ch in text\.lower\(\) if ch in "aeiou"\)/);
    const document = vscode.workspace.textDocuments.find((doc) => doc.uri.fsPath === PYTHON_FILE);
    assert.equal(document?.isDirty, false);
    assert.equal(diffTabs().length, 0);
    const status = await api.status.sessionStatus();
    assert.ok(status && status.tokens > 0, JSON.stringify(status));
    await api.status.update();
    const tooltip = (api.status.item.tooltip as vscode.MarkdownString).value;
    assert.match(tooltip, /Session: \d+ tokens, \$\d/);
    assert.match(tooltip, /for python, category string/, "the category the job found");
  });

  it("cancels a running job from the notification's Cancel button and changes nothing", async () => {
    const before = fs.readFileSync(PYTHON_FILE);
    await open(PYTHON_FILE, "def has_duplicates");
    const job = vscode.commands.executeCommand<JobResult>("perforch.optimizeHere");
    // The scripted model answers refinement requests only after a minute: the job waits on it.
    await until(async () => (await api.status.sessionStatus())?.jobs.some((j) => j.stage === "refine"), "the job to reach refine", 60000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the model request is in flight (checked outside)
    const started = Date.now();
    await vscode.commands.executeCommand("notifications.showList"); // no toasts under the smoke-test driver
    await driverAction("click-cancel"); // a real click on the progress notification's Cancel button
    const result = await job;
    assert.equal(result.status, "cancelled");
    assert.ok(Date.now() - started < 15000, `cancel took ${Date.now() - started} ms`);
    await until(async () => (await api.status.sessionStatus())?.jobs.length === 0, "the server to drop the job");
    assert.deepEqual(fs.readFileSync(PYTHON_FILE), before);
    await vscode.commands.executeCommand("notifications.hideList");
    assert.equal(await vscode.commands.executeCommand("perforch.cancel"), false, "no job left to cancel");
  });

  it("shows the top Rust generator in the status bar", async () => {
    await open(RUST_FILE, "pub fn count_vowels");
    await until(() => api.status.item.text.includes("writer-b"), `the Rust ranking (status: ${api.status.item.text})`);
  });

  it("opens the ranking matrix for the language", async () => {
    await vscode.commands.executeCommand("perforch.showRankings", "python");
    await until(() => api.panel.visible, "the ranking view");
    const html = api.panel.html;
    for (const part of ["PerfOrch ranking: python", "<h2>generate</h2>", "writer-a", "n=40", "vscode-test profile"]) {
      assert.ok(html.includes(part), `the view lacks ${part}`);
    }
    await screenshot("rankings");
  });

  it("restarts a server that exits unexpectedly", async () => {
    const running = api.client.running();
    const before = (await running.sendRequest("perforch/status", {})) as { tokens: number };
    assert.ok(before.tokens > 0, "the earlier jobs' tokens");
    const states: string[] = [];
    const listener = api.client.onDidChangeState((state) => states.push(state));
    try {
      await running.sendNotification(ExitNotification.type); // the server exits without a shutdown
      await until(() => states.includes("starting") && api.client.state === "running", `a restart (states: ${states})`, 60000);
    } finally {
      listener.dispose();
    }
    const after = (await api.client.running().sendRequest("perforch/status", {})) as { tokens: number };
    assert.equal(after.tokens, 0, "a new server process starts a new session");
  });

  it("says how to fix an interpreter without PerfOrch, and recovers", async () => {
    await open(PYTHON_FILE, "def has_duplicates");
    const config = vscode.workspace.getConfiguration("perforch");
    const original = config.get<string>("pythonPath");
    await config.update("pythonPath", BARE_PYTHON, vscode.ConfigurationTarget.Global);
    try {
      await until(() => api.client.state === "not installed", `the check to fail (state: ${api.client.state})`, 60000);
      assert.ok(api.client.problem.includes(`PerfOrch is not installed in '${BARE_PYTHON}'`), api.client.problem);
      assert.ok(api.client.problem.includes(`${BARE_PYTHON} -m pip install perforch`), api.client.problem);
      await api.status.update();
      assert.equal(api.status.item.text, "$(warning) PerfOrch");
      assert.match(String(api.status.item.tooltip), /not installed/);
      const refused = await vscode.commands.executeCommand<unknown>("perforch.optimizeHere");
      assert.equal(refused, undefined, "no job without a server");
    } finally {
      await config.update("pythonPath", original, vscode.ConfigurationTarget.Global);
    }
    await until(() => api.client.state === "running", `the server back (state: ${api.client.state})`, 60000);
  });
});
