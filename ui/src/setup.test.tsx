// The first run: defaults shown, the machine's locks respected, the PACS
// connection test's answers, the core's refusal shown, and the demo.
import { act } from "preact/test-utils";
import { invoke } from "@tauri-apps/api/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SetupView } from "./bindings";
import { mount, unmountAll } from "./fixtures";
import { Setup } from "./Setup";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));

afterEach(() => {
  unmountAll();
  vi.mocked(invoke).mockReset();
});

const view = (over: Partial<SetupView> = {}): SetupView => ({
  defaults: {
    reader: { id: "ann", display_name: "Ann Example", role: "radiologist" },
    read_first: false, sources: [], pacs_config: null, model_dir: "/m/demo", audit_log: "/home/ann/.local/share/overread/audit.sqlite3",
  },
  models: [
    { dir: "/m/demo", name: "overread-demo", version: "1.0.0", clinical: false, intended_use: "CR/DX PA/AP of the chest" },
    { dir: "/m/vendor", name: "vendor-cxr", version: "2.1", clinical: true, intended_use: "DX PA of the chest, patients aged 18 or over" },
  ],
  policy: { file: null, locked: [] },
  demo: true,
  ...over,
});

const flush = () => act(async () => { await new Promise((r) => setTimeout(r, 0)); });
const type = (el: HTMLElement, css: string, value: string) => act(() => {
  const input = el.querySelector(css) as HTMLInputElement;
  input.value = value;
  input.dispatchEvent(new Event("input"));
});

describe("first run", () => {
  it("starts from the defaults and labels the demonstration model", () => {
    const el = mount(<Setup view={view()} onDone={() => {}} />);
    expect((el.querySelector("#setup-reader-id") as HTMLInputElement).value).toBe("ann");
    expect((el.querySelector("#setup-audit") as HTMLInputElement).value).toContain("audit.sqlite3");
    expect(el.querySelector("#setup-model")?.textContent).toContain("(demonstration, not for clinical use)");
    expect(el.querySelector("#setup-model-use")?.textContent).toContain("Demonstration, not for clinical use");
    expect(el.querySelector("#setup-demo")).not.toBeNull();
    expect(el.querySelector(".locked")).toBeNull();
  });

  it("shows what the machine locks, disabled", () => {
    const v = view({ policy: { file: "/etc/overread/settings.json", locked: ["model_dir", "pacs_config"] }, demo: false });
    const el = mount(<Setup view={v} onDone={() => {}} />);
    expect((el.querySelector("#setup-model") as HTMLSelectElement).disabled).toBe(true);
    expect((el.querySelector("#setup-pacs") as HTMLInputElement).disabled).toBe(true);
    expect((el.querySelector("#setup-sources") as HTMLTextAreaElement).disabled).toBe(false);
    expect(el.querySelectorAll(".locked").length).toBe(2);
    expect(el.querySelector("#setup-demo")).toBeNull();
  });

  it("tests the PACS, shows the core's refusal, and finishes with the choices", async () => {
    const done = vi.fn();
    const el = mount(<Setup view={view()} onDone={done} />);
    type(el, "#setup-pacs", "/etc/overread/pacs.toml");
    vi.mocked(invoke).mockResolvedValueOnce([{ source: "pacs", ok: false, message: "pacs: cannot connect: connection refused" }]);
    act(() => (el.querySelector("#setup-test-pacs") as HTMLButtonElement).click());
    await flush();
    expect(invoke).toHaveBeenLastCalledWith("check_pacs", { path: "/etc/overread/pacs.toml" });
    expect(el.querySelector("#setup-pacs-checks")?.textContent).toBe("✗ pacs: cannot connect: connection refused");

    vi.mocked(invoke).mockRejectedValueOnce({ code: "settings", message: "the PACS configuration /etc/overread/pacs.toml: invalid" });
    act(() => (el.querySelector("#setup-finish") as HTMLButtonElement).click());
    await flush();
    expect(el.querySelector("#setup-error")?.textContent).toContain("the PACS configuration");
    expect(done).not.toHaveBeenCalled();

    type(el, "#setup-pacs", "");
    type(el, "#setup-sources", "/data/studies");
    vi.mocked(invoke).mockResolvedValueOnce(null);
    act(() => (el.querySelector("#setup-finish") as HTMLButtonElement).click());
    await flush();
    const [cmd, args] = vi.mocked(invoke).mock.lastCall ?? [];
    expect(cmd).toBe("finish_setup");
    expect(args).toMatchObject({ request: { sources: ["/data/studies"], pacs_config: null, model_dir: "/m/demo" } });
    expect(done).toHaveBeenCalledOnce();
  });

  it("opens the demo in one click", async () => {
    const done = vi.fn();
    const el = mount(<Setup view={view()} onDone={done} />);
    vi.mocked(invoke).mockResolvedValueOnce(null);
    act(() => (el.querySelector("#setup-demo") as HTMLButtonElement).click());
    await flush();
    expect(vi.mocked(invoke).mock.lastCall?.[0]).toBe("try_demo");
    expect(done).toHaveBeenCalledOnce();
  });
});
