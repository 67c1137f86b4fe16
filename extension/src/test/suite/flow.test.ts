// The whole flow in a real VS Code against the real Python server and the scripted model server that
// tests/test_vscode_extension.py starts: the workspace holds copies of examples/python and examples/rust, and
// four more Python projects configured differently (other/: a model whose answers fail, nokey/: a key not
// set, down/: a model server nobody listens on, early/: a model whose refinement waits until this test writes
// PERFORCH_VSCODE_RELEASE), each with its own perforch.toml pointing at the scripted server. Tests run in order
// and share the server.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { ExitNotification } from "vscode-languageclient/node";
import type { PerfOrchApi } from "../../extension";
import type { JobResult } from "../../jobs";
import type { ShownFailure } from "../../outcome";
import { SCHEME } from "../../preview";
import { driverAction, screenshot, until } from "../screenshots";

const WORKSPACE = process.env.PERFORCH_VSCODE_WORKSPACE ?? "";
const KEY = process.env.PERFORCH_VSCODE_KEY ?? "";
const BARE_PYTHON = process.env.PERFORCH_VSCODE_BARE_PYTHON ?? ""; // a Python without PerfOrch
const RELEASE = process.env.PERFORCH_VSCODE_RELEASE ?? ""; // written: early/'s refiner answers
const PYTHON_FILE = path.join(WORKSPACE, "python", "textstats", "core.py");
const RUST_FILE = path.join(WORKSPACE, "rust", "src", "lib.rs");
const core = (project: string) => path.join(WORKSPACE, project, "textstats", "core.py");

let api: PerfOrchApi;

/** The next failure message the extension shows (its text and buttons). */
function nextFailure(): Promise<ShownFailure> {
  return new Promise((resolve) => {
    const listener = api.outcomes.onDidShowFailure((failure) => {
      listener.dispose();
      resolve(failure);
    });
  });
}

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
    const asking = /^count_vowels: step 2 of 4, generate \(writer-a\): asking the model · \d+ s$/;
    await until(() => progress.some((message) => asking.test(message)), `a progress report naming the step, the model and the time (${progress.slice(-3)})`, 60000);
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
    await until(() => api.status.item.text === "$(sparkle) PerfOrch: writer-a", `the Python route (status: ${api.status.item.text})`);
    const tooltip = api.status.item.tooltip as vscode.MarkdownString;
    assert.match(tooltip.value, /\| generate \| `writer-a` \| `writer-b` \|/);
    assert.match(tooltip.value, /Why this model\? writer-a ranks first of your models for python/);
    assert.ok(tooltip.value.includes(path.join(WORKSPACE, "python", "perforch.toml")), tooltip.value);
    await screenshot("status-bar");
  });

  it("names the model of each project's own perforch.toml, and warns of a missing key", async () => {
    await open(core("other"), "def count_vowels");
    await until(() => api.status.item.text === "$(sparkle) PerfOrch: wrong", `other/'s model (status: ${api.status.item.text})`);
    await open(core("nokey"), "def count_vowels");
    await until(() => api.status.item.text === "$(key) PerfOrch: set PERFORCH_ABSENT_KEY", `the missing key (status: ${api.status.item.text})`);
    assert.equal((api.status.item.command as vscode.Command).command, "perforch.setApiKey");
    await open(PYTHON_FILE, "def count_vowels");
    await until(() => api.status.item.text === "$(sparkle) PerfOrch: writer-a", `python/'s model again (status: ${api.status.item.text})`);
  });

  it("offers Generate on a stub and Optimize on a finished function", async () => {
    const stub = await open(PYTHON_FILE, "def count_vowels");
    assert.deepEqual(await actionTitles(stub), ["Generate with PerfOrch"]);
    await vscode.commands.executeCommand("workbench.action.focusActiveEditorGroup");
    await screenshot("code-action");
    const finished = await open(PYTHON_FILE, "def has_duplicates");
    assert.deepEqual(await actionTitles(finished), ["Optimize with PerfOrch"]);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", finished.document.uri);
    const titles = lenses.map((lens) => `${lens.range.start.line}: ${lens.command?.title}`);
    const stubLine = finished.document.getText().split("\n").findIndex((line) => line.startsWith("def count_vowels"));
    assert.deepEqual(titles, [`${stubLine}: Generate with PerfOrch`], "a lens above the stub only");
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
    assert.match(api.outcomes.item.text, /^\$\(pass\) PerfOrch: generate count_vowels · tests \d+\/\d+ passed · [\d.]+ s · \d+ tokens · unpriced$/);
    await screenshot("diff");
    await new Promise((resolve) => setTimeout(resolve, 31000)); // a result that stays: still there after 30 s
    await driverAction("result-visible");
    const decided = new Promise((resolve) => api.previews.onDidDecide(resolve));
    await driverAction("press-reject"); // Ctrl+Alt+Backspace in the diff
    await decided;
    assert.equal(diffTabs().length, 0);
    assert.match(api.outcomes.item.text, /rejected/);
    assert.deepEqual(fs.readFileSync(PYTHON_FILE), before);
    assert.equal(api.previews.pending.length, 0);
  });

  it("runs the lightbulb's action with the same preview; Accept applies and saves it; tokens and cost are shown", async () => {
    const editor = await open(PYTHON_FILE, "def count_vowels");
    await generateWithPreview(false, () => runFromLightbulb(editor));
    const decided = new Promise((resolve) => api.previews.onDidDecide(resolve));
    await driverAction("press-accept"); // Ctrl+Alt+Enter in the diff
    assert.equal(((await decided) as { accepted: boolean }).accepted, true);
    assert.match(api.outcomes.item.text, /accepted/);
    const written = fs.readFileSync(PYTHON_FILE, "utf-8");
    assert.match(written, /return sum\(1 for ch in text\.lower\(\) if ch in "aeiou"\)/);
    const document = vscode.workspace.textDocuments.find((doc) => doc.uri.fsPath === PYTHON_FILE);
    assert.equal(document?.isDirty, false);
    assert.equal(diffTabs().length, 0);
    const status = await api.status.sessionStatus();
    assert.ok(status && status.tokens > 0, JSON.stringify(status));
    await api.status.update();
    const tooltip = (api.status.item.tooltip as vscode.MarkdownString).value;
    assert.match(tooltip, /Session: \d+ tokens, cost unpriced/, "never $0.0000 for models with no price");
    assert.match(tooltip, /for python\/string/, "the category the job found");
  });

  it("offers the passing version while it refines; accepting it early lets refinement offer a faster one", async () => {
    const file = core("early");
    await open(file, "def count_vowels");
    const offered = new Promise<JobResult>((resolve) => {
      const listener = api.jobs.onDidOffer((offer) => {
        listener.dispose();
        resolve(offer);
      });
    });
    let finished = false;
    const job = vscode.commands.executeCommand<JobResult>("perforch.generateHere");
    void Promise.resolve(job).then(() => (finished = true));
    const offer = await offered;
    assert.equal(offer.refining, true, JSON.stringify(offer));
    const tab = await until(
      () => vscode.window.tabGroups.all.flatMap((group) => group.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === SCHEME),
      "the offered version's diff",
    );
    assert.match(tab?.label ?? "", /passing version — still refining/);
    assert.match(api.outcomes.item.text, /still refining$/);
    await screenshot("early-offer");
    const accepted = new Promise<{ accepted: boolean }>((resolve) => {
      const listener = api.previews.onDidDecide((decision) => {
        listener.dispose();
        resolve(decision);
      });
    });
    await driverAction("press-accept"); // Ctrl+Alt+Enter in the offered version's diff
    assert.equal((await accepted).accepted, true);
    assert.match(fs.readFileSync(file, "utf-8"), /range\(300\)/, "the passing version, written");
    assert.equal(finished, false, "the job refines on after the accept");
    fs.writeFileSync(RELEASE, "now"); // the scripted refiner answers: a faster version
    const result = await job;
    assert.equal(result.status, "done", JSON.stringify(result));
    assert.ok((result.speedup ?? 0) > 1, JSON.stringify(result));
    await until(() => diffTabs().length === 1, "the faster version's diff");
    const proposed = (await vscode.workspace.openTextDocument(diffTabs()[0].modified)).getText();
    assert.match(proposed, /return sum\(1 for ch in text\.lower\(\) if ch in "aeiou"\)/);
    assert.match(fs.readFileSync(file, "utf-8"), /range\(300\)/, "the file holds the accepted version until this one is accepted");
    const second = new Promise((resolve) => {
      const listener = api.previews.onDidDecide((decision) => {
        listener.dispose();
        resolve(decision);
      });
    });
    await driverAction("press-accept");
    await second;
    const written = fs.readFileSync(file, "utf-8");
    assert.match(written, /return sum\(1 for ch in text\.lower\(\) if ch in "aeiou"\)/);
    assert.ok(!written.includes("range(300)"), written);
    assert.equal(diffTabs().length, 0);
  });

  it("cancels a running job from the notification's Cancel button and changes nothing", async () => {
    const before = fs.readFileSync(PYTHON_FILE);
    await open(PYTHON_FILE, "def has_duplicates");
    const job = vscode.commands.executeCommand<JobResult>("perforch.optimizeHere");
    // The scripted model answers refinement requests only after a minute: the job waits on it.
    // Refine's model request, not the timing of the passing version that comes first (its model is "").
    await until(async () => (await api.status.sessionStatus())?.jobs.some((j) => j.stage === "refine" && j.model), "the job to ask a refiner", 400000);
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

  it("says a key is missing, and offers to set it", async () => {
    await open(core("nokey"), "def count_vowels");
    const shown = nextFailure();
    const result = await vscode.commands.executeCommand<JobResult>("perforch.generateHere");
    assert.equal(result.status, "refused", JSON.stringify(result));
    assert.equal(result.cause?.kind, "missing_key");
    const failure = await shown;
    assert.match(failure.message, /the API key PERFORCH_ABSENT_KEY is not set/);
    assert.deepEqual(failure.actions, ["Set key", "Show log"]);
    await vscode.commands.executeCommand("notifications.showList");
    await screenshot("failure-key");
    await vscode.commands.executeCommand("notifications.clearAll");
    await vscode.commands.executeCommand("notifications.hideList");
  });

  it("says the model server cannot be reached, and offers Retry", async () => {
    await open(core("down"), "def count_vowels");
    const shown = nextFailure();
    const result = await vscode.commands.executeCommand<JobResult>("perforch.generateHere");
    assert.equal(result.status, "done", JSON.stringify(result));
    assert.equal(result.cause?.kind, "unreachable", JSON.stringify(result.cause));
    const failure = await shown;
    assert.match(failure.message, /down: cannot reach http:\/\/127\.0\.0\.1:9\/v1/);
    assert.ok(!failure.message.includes("no passing version"), failure.message);
    assert.deepEqual(failure.actions, ["Retry", "Show log"]);
    assert.match(api.outcomes.item.text, /^\$\(error\) PerfOrch: generate count_vowels · failed/);
    await vscode.commands.executeCommand("notifications.clearAll");
  });

  it("shows the failing candidate beside the file, with the tests' output", async () => {
    await open(core("other"), "def count_vowels");
    const shown = nextFailure();
    const result = await vscode.commands.executeCommand<JobResult>("perforch.generateHere");
    assert.equal(result.cause?.kind, "test_failed", JSON.stringify(result.cause));
    const failure = await shown;
    assert.match(failure.message, /no version passed the tests\. wrong: test failed/);
    assert.deepEqual(failure.actions, ["Show failing candidate", "Retry", "Show log"]);
    assert.ok(await vscode.commands.executeCommand("perforch.showFailingCandidate"));
    const candidate = await until(
      () => vscode.window.tabGroups.all.flatMap((group) => group.tabs).map((tab) => tab.input)
        .find((input): input is vscode.TabInputTextDiff => input instanceof vscode.TabInputTextDiff && input.modified.scheme === "perforch-candidate"),
      "the failing candidate's diff",
    );
    const text = (await vscode.workspace.openTextDocument(candidate!.modified)).getText();
    assert.match(text, /return undefined_helper\(text\)/);
    assert.match(result.cause?.output ?? "", /undefined_helper/);
    await vscode.commands.executeCommand("notifications.clearAll");
    await screenshot("failure-candidate");
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("shows a broken perforch.toml as a Problems entry when it is saved, and the status bar says so", async () => {
    const toml = path.join(WORKSPACE, "other", "perforch.toml");
    const original = fs.readFileSync(toml, "utf-8");
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(toml), { preview: false });
    try {
      await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), "[pipeline\n"));
      await editor.document.save();
      const ours = () => vscode.languages.getDiagnostics(editor.document.uri).filter((d) => d.source === "PerfOrch");
      const problem = (await until(() => ours()[0], "a PerfOrch diagnostic on perforch.toml")) as vscode.Diagnostic;
      assert.equal(problem.range.start.line, 0);
      assert.match(problem.message, /invalid TOML/);
      await vscode.commands.executeCommand("workbench.actions.view.problems");
      await screenshot("broken-config");
      await open(core("other"), "def count_vowels");
      await until(() => api.status.item.text === "$(warning) PerfOrch: perforch.toml broken", `the status bar's warning (status: ${api.status.item.text})`);
      assert.equal((api.status.item.command as vscode.Command).command, "perforch.openConfig");
    } finally {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(toml));
      const fixed = await vscode.window.showTextDocument(document);
      await fixed.edit((edit) => edit.replace(new vscode.Range(0, 0, document.lineCount, 0), original));
      await document.save();
    }
    await until(() => vscode.languages.getDiagnostics(vscode.Uri.file(toml)).length === 0, "the diagnostic gone once fixed");
    await vscode.commands.executeCommand("workbench.action.closePanel");
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("shows the top Rust generator in the status bar", async () => {
    await open(RUST_FILE, "pub fn count_vowels");
    await until(() => api.status.item.text === "$(sparkle) PerfOrch: writer-b", `the Rust route (status: ${api.status.item.text})`);
  });

  it("opens the getting-started walkthrough", async () => {
    await vscode.commands.executeCommand("perforch.getStarted");
    await driverAction("walkthrough-visible"); // its title and first step, in the page
    await screenshot("walkthrough");
    await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
  });

  it("opens the ranking matrix for the language", async () => {
    await open(PYTHON_FILE, "def count_vowels"); // the view shows the config of a job on this file
    await vscode.commands.executeCommand("perforch.showRankings", "python");
    await until(() => api.panel.visible, "the ranking view");
    const html = api.panel.html;
    for (const part of ["PerfOrch ranking: python", "<h2>generate</h2>", "writer-a", "n=40", "vscode-test profile", "<th>category</th><th>your order</th><th>#1</th>", "Why writer-a?"]) {
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
