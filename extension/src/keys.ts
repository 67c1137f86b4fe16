// API keys: kept in VS Code's SecretStorage (the OS keychain), handed to the server process as environment
// variables, never written to settings, files or logs. Only the variable names are remembered in plain state.
import * as vscode from "vscode";

const NAMES = "perforch.apiKeyNames";
const SECRET = (name: string) => `perforch.apiKey.${name}`;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// The variables litellm reads for the common providers; any other name can be typed.
const COMMON = [
  "OPENAI_API_KEY",
  "ANTHROPIC_API_KEY",
  "GEMINI_API_KEY",
  "DEEPSEEK_API_KEY",
  "MISTRAL_API_KEY",
  "OPENROUTER_API_KEY",
  "GROQ_API_KEY",
  "TOGETHERAI_API_KEY",
];

export class ApiKeys {
  constructor(private readonly context: vscode.ExtensionContext) {}

  names(): string[] {
    return this.context.globalState.get<string[]>(NAMES, []);
  }

  /** The stored keys as environment variables for the server process. */
  async environment(): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const name of this.names()) {
      const value = await this.context.secrets.get(SECRET(name));
      if (value) {
        env[name] = value;
      }
    }
    return env;
  }

  async set(name: string, value: string): Promise<void> {
    if (!ENV_NAME.test(name)) {
      throw new Error(`'${name}' is not an environment variable name`);
    }
    await this.context.secrets.store(SECRET(name), value);
    await this.context.globalState.update(NAMES, [...new Set([...this.names(), name])].sort());
  }

  async remove(name: string): Promise<void> {
    await this.context.secrets.delete(SECRET(name));
    await this.context.globalState.update(NAMES, this.names().filter((n) => n !== name));
  }

  /** Ask for a variable name (unless given) and a key; the name when one was stored. `workspace` are the
   * api_key_env names the workspace's perforch.toml uses: offered first. */
  async prompt(given?: string, workspace: string[] = []): Promise<string | undefined> {
    const stored = new Set(this.names());
    const ours = new Set(workspace);
    const items = [...new Set([...workspace, ...COMMON, ...stored])].map((name) => ({
      label: name,
      description: [ours.has(name) ? "used by your perforch.toml" : "", stored.has(name) ? "stored" : ""].filter(Boolean).join(", "),
    }));
    const picked = given && ENV_NAME.test(given) ? given : await pickOrType(items, "Environment variable the model's provider reads (as in api_key_env); or type another name");
    if (!picked) {
      return undefined;
    }
    const value = await vscode.window.showInputBox({
      title: `PerfOrch: API key for ${picked}`,
      prompt: "Stored in VS Code's secret storage and given to the PerfOrch server only",
      password: true,
      ignoreFocusOut: true,
      validateInput: (text) => (text.trim() ? undefined : "the key is empty"),
    });
    if (!value) {
      return undefined;
    }
    await this.set(picked, value.trim());
    return picked;
  }
}

/** A pick from `items`, or a name typed that is none of them: it is offered as an item of its own, so the
 * list never empties under the typing. */
async function pickOrType(items: vscode.QuickPickItem[], placeholder: string): Promise<string | undefined> {
  const pick = vscode.window.createQuickPick();
  pick.items = items;
  pick.placeholder = placeholder;
  pick.onDidChangeValue((value) => {
    const typed = value.trim();
    const known = items.some((item) => item.label === typed);
    pick.items = typed && !known && ENV_NAME.test(typed) ? [{ label: typed, description: "the name you typed" }, ...items] : items;
  });
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0]?.label ?? pick.value.trim();
      resolve(ENV_NAME.test(chosen) ? chosen : undefined);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}
