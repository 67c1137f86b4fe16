// Which Python runs `perforch serve`, and whether PerfOrch is installed in it.
import { execFile } from "node:child_process";
import * as vscode from "vscode";

export interface Interpreter {
  path: string;
  source: string; // where the choice came from, for messages
}

/** perforch.pythonPath, else the Python extension's selected interpreter, else python3. */
export async function chooseInterpreter(resource?: vscode.Uri): Promise<Interpreter> {
  const configured = vscode.workspace.getConfiguration("perforch", resource).get<string>("pythonPath", "").trim();
  if (configured) {
    return { path: configured, source: "the setting perforch.pythonPath" };
  }
  const selected = await pythonExtensionInterpreter(resource);
  if (selected) {
    return { path: selected, source: "the Python extension's selected interpreter" };
  }
  return { path: "python3", source: "the default python3" };
}

async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const python = vscode.extensions.getExtension("ms-python.python");
  if (!python) {
    return undefined;
  }
  try {
    // The Python extension's API has changed shape over the years: ask the current one, then the older one.
    const api: any = python.isActive ? python.exports : await python.activate();
    const active = await api?.environments?.resolveEnvironment?.(api.environments.getActiveEnvironmentPath(resource));
    const executable: string | undefined = active?.executable?.uri?.fsPath;
    return executable ?? api?.settings?.getExecutionDetails?.(resource)?.execCommand?.[0];
  } catch {
    return undefined; // an interpreter we cannot ask about is one we do not use
  }
}

export type Check = { ok: true } | { ok: false; problem: string; fix: string };

/** Whether `interpreter` runs and has the perforch package, without importing it (that takes a second). */
export function checkInstalled(interpreter: Interpreter): Promise<Check> {
  const probe = [
    "import importlib.util, sys",
    "try:\n    found = importlib.util.find_spec('perforch.cli')",
    "except ImportError:  # no perforch package at all\n    found = None",
    "sys.exit(0 if found else 3)",
  ].join("\n");
  return new Promise((resolve) => {
    execFile(interpreter.path, ["-c", probe], { timeout: 20000 }, (error) => {
      if (!error) {
        resolve({ ok: true });
      } else if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        resolve({
          ok: false,
          problem: `the Python interpreter '${interpreter.path}' (${interpreter.source}) was not found`,
          fix: "set perforch.pythonPath to a Python 3.10+ with PerfOrch installed",
        });
      } else if (error.code === 3) {
        resolve({
          ok: false,
          problem: `PerfOrch is not installed in '${interpreter.path}' (${interpreter.source})`,
          fix: `install it with \`${interpreter.path} -m pip install perforch\`, or set perforch.pythonPath`,
        });
      } else {
        resolve({
          ok: false,
          problem: `'${interpreter.path}' (${interpreter.source}) failed to run: ${error.message.split("\n")[0]}`,
          fix: "set perforch.pythonPath to a working Python 3.10+ with PerfOrch installed",
        });
      }
    });
  });
}
